// What a clear or mark touches: the selection in the graph (downstream, upstream,
// recursive), which instances a clear refuses (a live or still-stopping attempt), what a
// mark changes, and the compare step of a confirmed dialog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confirmedPlanProblem, planClear, planMark, PlanError, selectTasks, type SeenInstance } from '../../src/core/lifecycle-plan.js';
import type { SerializedTask, TaskState } from '../../src/core/types.js';

const task = (taskId: string, upstream: string[] = []) => ({ taskId, upstream }) as unknown as SerializedTask;
// a → b → c, a → d; e → d; f alone
const TASKS = [task('a'), task('b', ['a']), task('c', ['b']), task('e'), task('d', ['a', 'e']), task('f')];
const seen = (taskId: string, state: TaskState, extra: Partial<SeenInstance> = {}): SeenInstance => ({ taskId, state, attemptId: `att-${taskId}`, tryNumber: 1, stopping: false, ...extra });

test('the selection: named tasks, their downstream and upstream transitively, recursive grows both ways until closed', () => {
  assert.deepEqual(selectTasks(TASKS, ['b']), ['b']);
  assert.deepEqual(selectTasks(TASKS, ['a'], { downstream: true }), ['a', 'b', 'c', 'd']);
  assert.deepEqual(selectTasks(TASKS, ['c'], { upstream: true }), ['a', 'b', 'c']);
  assert.deepEqual(selectTasks(TASKS, ['b'], { upstream: true, downstream: true }), ['a', 'b', 'c']);
  // Recursive reaches e through d, a sibling upstream; f is linked to nothing.
  assert.deepEqual(selectTasks(TASKS, ['c'], { recursive: true }), ['a', 'b', 'c', 'e', 'd']);
  assert.deepEqual(selectTasks(TASKS, null), ['a', 'b', 'c', 'e', 'd', 'f']);
  assert.throws(() => selectTasks(TASKS, ['zz']), (e: Error) => e instanceof PlanError && /unknown task "zz"/.test(e.message) && /a, b, c/.test(e.message));
});

test('a clear takes final and up_for_retry instances back; onlyFailed keeps failed and upstream_failed', () => {
  const all = [seen('a', 'success'), seen('b', 'failed'), seen('c', 'upstream_failed'), seen('d', 'pending', { attemptId: null }), seen('e', 'up_for_retry'), seen('f', 'skipped')];
  assert.deepEqual(planClear(['a', 'b', 'c', 'd', 'e', 'f'], all).clear.map((i) => i.taskId), ['a', 'b', 'c', 'e', 'f']);
  assert.deepEqual(planClear(['a', 'b', 'c', 'd', 'e', 'f'], all, { onlyFailed: true }).clear.map((i) => i.taskId), ['b', 'c']);
});

test('a clear is refused whole while an attempt is live or a stopped attempt has not ended', () => {
  for (const state of ['queued', 'running', 'deferred'] as TaskState[]) {
    assert.throws(() => planClear(['a', 'b'], [seen('a', 'failed'), seen('b', state)]), (e: Error) => e instanceof PlanError && e.message.includes(`b (${state})`));
  }
  assert.throws(() => planClear(['a'], [seen('a', 'failed', { stopping: true })]), /has not ended yet/);
  // Not selected, not in the way; and with onlyFailed a running success-path task is left alone.
  assert.deepEqual(planClear(['a'], [seen('a', 'failed'), seen('b', 'running')]).clear.map((i) => i.taskId), ['a']);
});

test('a mark changes every selected instance in another state; a run marked failed keeps its finished ones', () => {
  const all = [seen('a', 'success'), seen('b', 'running'), seen('c', 'pending', { attemptId: null }), seen('d', 'failed')];
  assert.deepEqual(planMark(['a', 'b', 'c', 'd'], all, 'success').map((i) => i.taskId), ['b', 'c', 'd']);
  assert.deepEqual(planMark(['a', 'b', 'c', 'd'], all, 'failed').map((i) => i.taskId), ['a', 'b', 'c']);
  assert.deepEqual(planMark(['a', 'b', 'c', 'd'], all, 'failed', { unfinishedOnly: true }).map((i) => i.taskId), ['b', 'c']);
});

test('a confirmed plan applies only if every instance is as confirmed: same tasks, states and attempts', () => {
  const plan = [seen('a', 'failed'), seen('b', 'upstream_failed', { attemptId: null })];
  const confirmed = plan.map((p) => ({ taskId: p.taskId, state: p.state, attemptId: p.attemptId }));
  assert.equal(confirmedPlanProblem(plan, confirmed), null);
  assert.match(confirmedPlanProblem([seen('a', 'failed', { attemptId: 'other' }), plan[1]!], confirmed)!, /a \(confirmed failed, now failed, another attempt\)/);
  assert.match(confirmedPlanProblem([seen('a', 'up_for_retry'), plan[1]!], confirmed)!, /a \(confirmed failed, now up_for_retry\)/);
  assert.match(confirmedPlanProblem(plan.slice(0, 1), confirmed)!, /b \(no longer part of it\)/);
  assert.match(confirmedPlanProblem([...plan, seen('c', 'failed')], confirmed)!, /c \(now failed, not in the confirmed list\)/);
});
