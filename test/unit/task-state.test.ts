// The task-instance state machine, checked by what it must guarantee rather than against a
// copy of its table: the paths a task takes are legal step by step, the jumps that would
// skip a check are refused, and the graph as a whole has no unreachable state, no dead end,
// no way out of a final state but a clear, and no result written outside an attempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, isFinal } from '../../src/core/task-state.js';
import { TASK_STATES, type TaskState } from '../../src/core/types.js';

const next = (s: TaskState) => TASK_STATES.filter((t) => canTransition(s, t));
const previous = (s: TaskState) => TASK_STATES.filter((f) => canTransition(f, s));

function reachableFrom(start: TaskState): Set<TaskState> {
  const seen = new Set<TaskState>([start]);
  const todo = [start];
  for (let s = todo.pop(); s !== undefined; s = todo.pop()) {
    for (const t of next(s)) {
      if (!seen.has(t)) {
        seen.add(t);
        todo.push(t);
      }
    }
  }
  return seen;
}

/** The states whose row carries the attempt id that fenced writes are matched on (src/core/types.ts). */
const ATTEMPT_STATES: TaskState[] = ['running', 'deferred'];

test('the paths a task takes are legal, step by step', () => {
  const paths: Record<string, TaskState[]> = {
    'runs and succeeds': ['pending', 'scheduled', 'queued', 'running', 'success'],
    'fails for good': ['pending', 'scheduled', 'queued', 'running', 'failed'],
    'fails, waits out its retry delay, runs again': ['running', 'up_for_retry', 'scheduled', 'queued', 'running', 'success'],
    'defers, resumes on any worker': ['running', 'deferred', 'scheduled', 'queued', 'running', 'success'],
    'defers and times out': ['running', 'deferred', 'failed'],
    'handed back by a stopping worker, claimed again': ['queued', 'running', 'queued', 'running', 'success'],
    'taken back from the queue': ['scheduled', 'queued', 'scheduled'],
    'settled by its trigger rule': ['pending', 'skipped'],
    'its upstream failed': ['pending', 'upstream_failed'],
    'skipped while waiting for a slot': ['scheduled', 'skipped'],
    'cleared and run again': ['success', 'pending', 'scheduled', 'queued', 'running', 'failed', 'pending'],
  };
  for (const [name, path] of Object.entries(paths)) {
    for (let i = 1; i < path.length; i++) assert.ok(canTransition(path[i - 1]!, path[i]!), `${name}: ${path[i - 1]} -> ${path[i]}`);
  }
});

test('notable forbidden transitions', () => {
  const forbidden: [TaskState, TaskState][] = [
    ['pending', 'running'],
    ['pending', 'queued'],
    ['pending', 'success'],
    ['scheduled', 'running'],
    ['queued', 'success'],
    ['queued', 'failed'],
    ['up_for_retry', 'running'],
    ['up_for_retry', 'queued'],
    ['deferred', 'running'],
    ['deferred', 'success'],
    ['success', 'failed'],
    ['failed', 'up_for_retry'],
    ['running', 'running'],
    ['skipped', 'scheduled'],
  ];
  for (const [from, to] of forbidden) assert.equal(canTransition(from, to), false, `${from} -> ${to}`);
});

test('no state moves to itself, and an unknown state moves nowhere', () => {
  for (const s of TASK_STATES) assert.equal(canTransition(s, s), false, s);
  for (const s of TASK_STATES) {
    assert.equal(canTransition('bogus' as TaskState, s), false, `bogus -> ${s}`);
    assert.equal(canTransition(s, 'bogus' as TaskState), false, `${s} -> bogus`);
  }
});

test('the final states are success, failed, skipped, upstream_failed and removed', () => {
  for (const s of ['success', 'failed', 'skipped', 'upstream_failed', 'removed'] as const) assert.equal(isFinal(s), true, s);
  for (const s of ['pending', 'scheduled', 'queued', 'running', 'deferred', 'up_for_retry'] as const) assert.equal(isFinal(s), false, s);
});

test('a final state is left only by a clear back to pending, and only a final state is cleared', () => {
  for (const s of TASK_STATES) {
    if (isFinal(s)) assert.deepEqual(next(s), ['pending'], `${s} moves only back to pending`);
    else assert.equal(canTransition(s, 'pending'), false, `${s} is not final: nothing clears it`);
  }
});

test('every state is reachable from pending, the state a task is created in', () => {
  assert.deepEqual([...reachableFrom('pending')].sort(), [...TASK_STATES].sort());
});

test('no dead end: every state that is not final can still succeed, and can still be removed', () => {
  for (const s of TASK_STATES.filter((x) => !isFinal(x))) {
    assert.ok(next(s).length > 0, `${s} has a way out`);
    assert.ok(reachableFrom(s).has('success'), `${s} can still reach success`);
    assert.ok(canTransition(s, 'removed'), `${s} can be removed when the task leaves the DAG`);
  }
});

test('a task runs only after it was queued: no path to running skips the dependency and pool checks', () => {
  assert.deepEqual(previous('running'), ['queued']);
  assert.deepEqual(previous('queued'), ['scheduled', 'running'], 'queued from scheduled, or handed back by its running attempt');
  assert.ok(previous('scheduled').every((s) => s === 'pending' || s === 'queued' || s === 'up_for_retry' || s === 'deferred'),
    `scheduled only once the dependencies were met, a retry delay passed or a trigger fired: ${previous('scheduled').join(', ')}`);
});

test('a result is written only by an attempt: success, failure, retry and deferral come from states that carry the attempt id', () => {
  for (const outcome of ['success', 'failed', 'up_for_retry', 'deferred'] as const) {
    const from = previous(outcome);
    assert.ok(from.length > 0, `${outcome} is reachable`);
    for (const s of from) assert.ok(ATTEMPT_STATES.includes(s), `${s} -> ${outcome}: ${s} holds no attempt id to fence the write on`);
  }
  // Nor is a running attempt's task rescheduled, skipped or settled by its upstream behind its back.
  for (const s of ['scheduled', 'skipped', 'upstream_failed'] as const) assert.equal(canTransition('running', s), false, `running -> ${s}`);
});
