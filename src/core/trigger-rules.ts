// Decides whether a pending task may run, given its trigger rule and the states of its
// upstream tasks. Airflow semantics, including its early decisions: a rule is settled as soon
// as the outcome can no longer change, so downstream tasks are skipped or marked
// upstream_failed without waiting for slow siblings.
import type { TaskState, TriggerRule } from './types.js';

export type Readiness = 'wait' | 'run' | 'skip' | 'upstream_failed';

interface Counts {
  total: number;
  done: number;
  success: number;
  failed: number; // failed + upstream_failed: both mean "this branch broke"
  skipped: number;
}

function count(upstream: readonly TaskState[]): Counts {
  const c: Counts = { total: 0, done: 0, success: 0, failed: 0, skipped: 0 };
  for (const s of upstream) {
    // Removed tasks are no longer part of the DAG; like Airflow, they neither block nor vote.
    if (s === 'removed') continue;
    c.total++;
    if (s === 'success') c.success++;
    else if (s === 'failed' || s === 'upstream_failed') c.failed++;
    else if (s === 'skipped') c.skipped++;
    else continue; // pending, scheduled, queued, running, up_for_retry: not final yet
    c.done++;
  }
  return c;
}

export function decideReadiness(rule: TriggerRule, upstream: readonly TaskState[]): Readiness {
  // always: runs at once, whatever the upstream tasks do (they are only ordering hints).
  if (rule === 'always') return 'run';
  const c = count(upstream);
  if (c.total === 0) return 'run';
  const allDone = c.done === c.total;

  switch (rule) {
    // all_success: every upstream succeeded; a failure marks upstream_failed, a skip skips.
    case 'all_success':
      if (c.failed > 0) return 'upstream_failed';
      if (c.skipped > 0) return 'skip';
      return allDone ? 'run' : 'wait';
    // all_failed: every upstream failed or upstream_failed; any success or skip skips.
    case 'all_failed':
      if (c.success > 0 || c.skipped > 0) return 'skip';
      if (!allDone) return 'wait';
      return c.failed === c.total ? 'run' : 'skip';
    // all_done: every upstream finished, whatever the outcome.
    case 'all_done':
      return allDone ? 'run' : 'wait';
    // one_success: runs on the first success; if none succeeded: skip when all skipped, else upstream_failed.
    case 'one_success':
      if (c.success > 0) return 'run';
      if (!allDone) return 'wait';
      return c.skipped === c.total ? 'skip' : 'upstream_failed';
    // one_failed: runs on the first failure; if all finished without one, skip.
    case 'one_failed':
      if (c.failed > 0) return 'run';
      return allDone ? 'skip' : 'wait';
    // none_failed: no upstream failed (skips are fine); a failure marks upstream_failed.
    case 'none_failed':
      if (c.failed > 0) return 'upstream_failed';
      return allDone ? 'run' : 'wait';
    // none_skipped: no upstream was skipped (failures are fine); a skip skips.
    case 'none_skipped':
      if (c.skipped > 0) return 'skip';
      return allDone ? 'run' : 'wait';
    default: {
      const unknown: never = rule;
      throw new Error(`unknown trigger rule "${String(unknown)}"`);
    }
  }
}
