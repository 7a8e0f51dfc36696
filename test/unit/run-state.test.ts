import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRunState } from '../../src/core/run-state.js';
import type { TaskState } from '../../src/core/types.js';

const t = (taskId: string, state: TaskState, isLeaf = false) => ({ taskId, state, isLeaf });

test('decideRunState', () => {
  const cases: [ReturnType<typeof t>[], 'running' | 'success' | 'failed'][] = [
    [[], 'success'],
    [[t('a', 'success'), t('b', 'success', true)], 'success'],
    [[t('a', 'success'), t('b', 'running', true)], 'running'],
    [[t('a', 'failed'), t('b', 'pending', true)], 'running'],
    [[t('a', 'up_for_retry'), t('b', 'failed', true)], 'running'],
    [[t('a', 'success'), t('b', 'failed', true)], 'failed'],
    [[t('a', 'failed'), t('b', 'upstream_failed', true)], 'failed'],
    // a failure handled by a one_failed leaf does not fail the run
    [[t('a', 'failed'), t('cleanup', 'success', true)], 'success'],
    [[t('a', 'skipped', true), t('b', 'success', true)], 'success'],
    [[t('a', 'removed', true)], 'success'],
  ];
  for (const [tasks, expected] of cases) {
    assert.equal(decideRunState(tasks), expected, JSON.stringify(tasks));
  }
});
