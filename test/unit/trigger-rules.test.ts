import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideReadiness, type Readiness } from '../../src/core/trigger-rules.js';
import { TRIGGER_RULES, type TaskState, type TriggerRule } from '../../src/core/types.js';

const cases: [TriggerRule, TaskState[], Readiness][] = [
  // all_success
  ['all_success', ['success', 'success'], 'run'],
  ['all_success', ['success', 'running'], 'wait'],
  ['all_success', ['success', 'up_for_retry'], 'wait'],
  ['all_success', ['failed', 'running'], 'upstream_failed'],
  ['all_success', ['upstream_failed', 'pending'], 'upstream_failed'],
  ['all_success', ['skipped', 'running'], 'skip'],
  ['all_success', ['skipped', 'failed'], 'upstream_failed'],
  ['all_success', ['success', 'removed'], 'run'],
  // all_failed
  ['all_failed', ['failed', 'upstream_failed'], 'run'],
  ['all_failed', ['failed', 'running'], 'wait'],
  ['all_failed', ['failed', 'success'], 'skip'],
  ['all_failed', ['running', 'success'], 'skip'],
  ['all_failed', ['queued', 'skipped'], 'skip'],
  ['all_failed', ['failed', 'removed'], 'run'],
  // all_done
  ['all_done', ['success', 'failed', 'skipped', 'upstream_failed', 'removed'], 'run'],
  ['all_done', ['failed', 'running'], 'wait'],
  ['all_done', ['failed', 'up_for_retry'], 'wait'],
  // one_success
  ['one_success', ['success', 'running'], 'run'],
  ['one_success', ['failed', 'running'], 'wait'],
  ['one_success', ['failed', 'skipped'], 'upstream_failed'],
  ['one_success', ['upstream_failed', 'failed'], 'upstream_failed'],
  ['one_success', ['skipped', 'skipped'], 'skip'],
  ['one_success', ['skipped', 'removed'], 'skip'],
  // one_failed
  ['one_failed', ['failed', 'running'], 'run'],
  ['one_failed', ['upstream_failed', 'pending'], 'run'],
  ['one_failed', ['success', 'running'], 'wait'],
  ['one_failed', ['success', 'skipped'], 'skip'],
  // none_failed
  ['none_failed', ['success', 'skipped'], 'run'],
  ['none_failed', ['skipped', 'skipped'], 'run'],
  ['none_failed', ['success', 'running'], 'wait'],
  ['none_failed', ['failed', 'running'], 'upstream_failed'],
  ['none_failed', ['upstream_failed', 'success'], 'upstream_failed'],
  // none_skipped
  ['none_skipped', ['success', 'failed'], 'run'],
  ['none_skipped', ['success', 'running'], 'wait'],
  ['none_skipped', ['skipped', 'running'], 'skip'],
  ['none_skipped', ['upstream_failed', 'success'], 'run'],
  // always
  ['always', ['pending', 'running'], 'run'],
  ['always', ['failed', 'skipped'], 'run'],
];

test('decideReadiness follows Airflow semantics for mixed upstream states', () => {
  for (const [rule, upstream, expected] of cases) {
    assert.equal(decideReadiness(rule, upstream), expected, `${rule} with [${upstream.join(', ')}]`);
  }
});

test('a task without upstream (or only removed upstream) runs under every rule', () => {
  for (const rule of TRIGGER_RULES) {
    assert.equal(decideReadiness(rule, []), 'run', rule);
    assert.equal(decideReadiness(rule, ['removed']), 'run', rule);
  }
});

test('every non-final upstream state makes non-always rules wait when nothing decides early', () => {
  for (const s of ['pending', 'scheduled', 'queued', 'running', 'up_for_retry'] as const) {
    for (const rule of TRIGGER_RULES) {
      if (rule === 'always') continue;
      assert.equal(decideReadiness(rule, [s]), 'wait', `${rule} with [${s}]`);
    }
  }
});

test('a single final upstream decides each rule', () => {
  const table: Record<Exclude<TriggerRule, 'always'>, Record<'success' | 'failed' | 'skipped' | 'upstream_failed', Readiness>> = {
    all_success: { success: 'run', failed: 'upstream_failed', skipped: 'skip', upstream_failed: 'upstream_failed' },
    all_failed: { success: 'skip', failed: 'run', skipped: 'skip', upstream_failed: 'run' },
    all_done: { success: 'run', failed: 'run', skipped: 'run', upstream_failed: 'run' },
    one_success: { success: 'run', failed: 'upstream_failed', skipped: 'skip', upstream_failed: 'upstream_failed' },
    one_failed: { success: 'skip', failed: 'run', skipped: 'skip', upstream_failed: 'run' },
    none_failed: { success: 'run', failed: 'upstream_failed', skipped: 'run', upstream_failed: 'upstream_failed' },
    none_skipped: { success: 'run', failed: 'run', skipped: 'skip', upstream_failed: 'run' },
  };
  for (const [rule, byState] of Object.entries(table)) {
    for (const [state, expected] of Object.entries(byState)) {
      assert.equal(decideReadiness(rule as TriggerRule, [state as TaskState]), expected, `${rule} with [${state}]`);
    }
  }
});
