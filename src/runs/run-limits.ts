// The run-level limits every scheduler enforces (no singleton: SKIP LOCKED splits the
// runs): a run past its DAG's dagRunTimeoutSec is failed and its running attempts stopped,
// through the same fenced path as an operator's cancel (src/runs/lifecycle.ts); a run not
// finished by its deadline raises one alert (an HA event, the
// keel_dag_run_deadlines_missed_total counter, the onDeadlineMissed callback) and goes on.
// Each verdict and its callback's record are one transaction (docs/decisions/0008-callbacks-recorded-once.md).
import { deadlineCallbackFor, runCallbackFor } from '../core/callbacks.js';
import type { SerializedDag } from '../core/types.js';
import { underSavepoint, type Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { debugPoint } from '../debug-point.js';
import type { Logger } from '../log.js';
import { recordCallback } from './callbacks.js';
import { failTimedOutRun, LifecycleConflictError, type Actor } from './lifecycle.js';

export interface RunLimitOptions {
  batchSize: number;
  componentId: string | null;
  workerLostAfterSec: number;
  dbOutageGraceSec: number;
}

/** The reason a run failed by its timeout gives its onFailure callback. */
const TIMED_OUT = 'timed_out';

/** Fails the runs that outlived their dagRunTimeoutSec. Returns how many. */
export async function failTimedOutRuns(db: Database, opts: RunLimitOptions, log: Logger): Promise<number> {
  const who: Actor = { actor: `scheduler:${opts.componentId ?? 'standalone'}`, workerLostAfterSec: opts.workerLostAfterSec, dbOutageGraceSec: opts.dbOutageGraceSec };
  return db.inTransaction(async (tx) => {
    const runs = (await tx.query<{ id: string; dag_id: string; started_at: Date; timeout_sec: number; serialized: SerializedDag }>(sql('runs/dag_runs_lock_timed_out'), [opts.batchSize])).rows;
    let failed = 0;
    for (const run of runs) {
      const error = `the run timed out: still running ${run.timeout_sec} s after it started at ${run.started_at.toISOString()} (dagRunTimeoutSec)`;
      // A task instance that moved since it was seen (its attempt just ended) leaves this run to the next turn.
      const done = await underSavepoint(tx, async () => {
        const endCount = await failTimedOutRun(tx, run.id, who, error);
        if (endCount === null) return false;
        const kind = runCallbackFor(run.serialized, 'failed');
        if (kind) await recordCallback(tx, { kind, dagRunId: run.id, runEnd: endCount }, run.serialized.callbackQueue ?? 'default', { state: 'failed', error, reason: TIMED_OUT });
        await debugPoint('run_end');
        return true;
      }, (err) => err instanceof LifecycleConflictError);
      if (done?.value) {
        failed++;
        log.warn({ dagId: run.dag_id, runId: run.id, timeoutSec: run.timeout_sec }, 'run failed: it timed out (dagRunTimeoutSec); its running attempts are stopped');
      }
    }
    return failed;
  });
}

/** Records the deadline verdict of runs not finished by their deadline. Returns how many. */
export async function judgeDeadlines(db: Database, opts: Pick<RunLimitOptions, 'batchSize' | 'componentId'>, log: Logger): Promise<number> {
  return db.inTransaction(async (tx) => {
    const runs = (await tx.query<{ id: string; dag_id: string; run_id: string; state: string; deadline_at: Date; serialized: SerializedDag }>(
      sql('runs/dag_runs_lock_deadline_missed'), [opts.batchSize])).rows;
    for (const run of runs) {
      await tx.query(sql('runs/dag_run_deadline_missed'), [run.id]);
      const deadline = run.deadline_at.toISOString();
      await tx.query(sql('ha/ha_event_insert'), ['deadline_missed', opts.componentId, { dagId: run.dag_id, dagRunId: run.id, runId: run.run_id, deadline, state: run.state }]);
      const kind = deadlineCallbackFor(run.serialized);
      if (kind) await recordCallback(tx, { kind, dagRunId: run.id }, run.serialized.callbackQueue ?? 'default', { state: run.state, deadline });
      log.warn({ dagId: run.dag_id, runId: run.id, deadline, state: run.state }, 'run missed its deadline');
    }
    return runs.length;
  });
}
