import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, isFinal } from '../../src/core/task-state.js';
import { TASK_STATES, type TaskState } from '../../src/core/types.js';

const FINALS: TaskState[] = ['success', 'failed', 'skipped', 'upstream_failed', 'removed'];

const allowed: Record<TaskState, TaskState[]> = {
  pending: ['scheduled', 'skipped', 'upstream_failed', 'removed'],
  scheduled: ['queued', 'removed', 'skipped'],
  queued: ['running', 'scheduled', 'removed'],
  running: ['success', 'failed', 'up_for_retry', 'queued', 'removed', 'deferred'],
  deferred: ['scheduled', 'failed', 'removed'],
  up_for_retry: ['scheduled', 'removed'],
  success: ['pending'],
  failed: ['pending'],
  skipped: ['pending'],
  upstream_failed: ['pending'],
  removed: ['pending'],
};

test('isFinal', () => {
  for (const s of TASK_STATES) assert.equal(isFinal(s), FINALS.includes(s), s);
});

test('canTransition matches the full matrix', () => {
  for (const from of TASK_STATES) {
    for (const to of TASK_STATES) {
      assert.equal(canTransition(from, to), allowed[from].includes(to), `${from} -> ${to}`);
    }
  }
});

test('notable forbidden transitions', () => {
  const forbidden: [TaskState, TaskState][] = [
    ['pending', 'running'],
    ['pending', 'queued'],
    ['scheduled', 'running'],
    ['queued', 'success'],
    ['up_for_retry', 'running'],
    ['success', 'failed'],
    ['failed', 'up_for_retry'],
    ['running', 'running'],
    ['skipped', 'scheduled'],
  ];
  for (const [from, to] of forbidden) assert.equal(canTransition(from, to), false, `${from} -> ${to}`);
});
