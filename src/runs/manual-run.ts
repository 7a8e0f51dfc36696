// Manual trigger: validate the DAG id and params, then create a queued run. Accepted
// means committed: a trigger survives any process dying right after it returns.
import { randomUUID } from 'node:crypto';
import { resolveParams } from '../core/params.js';
import type { SerializedDag } from '../core/types.js';
import type { Database, Tx } from '../db/database.js';
import { DagVersionCache } from '../db/dag-versions.js';
import { sql } from '../db/sql.js';
import { decideLockedRuns, queueScheduled } from './run-steps.js';
import { UsageError } from '../errors.js';
import { createRun, runIdFor } from './create-run.js';

/** Most task instances a trigger queues itself. */
const QUEUE_BATCH = 200;
/** Collisions of default logical dates tolerated before giving up. */
const MAX_CLOCK_RETRIES = 5;

export interface TriggerInput {
  params?: Record<string, unknown>;
  /** Default: the database's now(). */
  logicalDate?: Date;
  runId?: string;
  /** Idempotency key (uuid): triggering again with the same key returns the same run (created: false). Default: a new one per call. */
  triggerKey?: string;
}

export interface TriggeredRun {
  id: string;
  dagId: string;
  runId: string;
  logicalDate: Date;
  params: Record<string, unknown>;
  /**
   * true: this call created the run. false: the run already existed with this triggerKey
   * (made by an earlier call, or by one racing this call), and was returned as it is.
   */
  created: boolean;
}

type KeyedRow = { id: string; dag_id: string; run_id: string; logical_date: Date; params: Record<string, unknown> };

async function runByTriggerKey(tx: Tx, triggerKey: string): Promise<KeyedRow | undefined> {
  return (await tx.query<KeyedRow>(sql('runs/dag_run_by_trigger_key'), [triggerKey])).rows[0];
}

export async function triggerDag(db: Database, dagId: string, input: TriggerInput = {}): Promise<TriggeredRun> {
  // Made once, outside the retried transaction: a retry after a COMMIT whose answer was lost
  // finds the run the first try created instead of making a second (ADR 0005).
  const triggerKey = input.triggerKey ?? randomUUID();
  // The run an earlier try of this call inserted: when a retry finds it by the key, that try
  // committed (its answer was lost) and the run is still this call's own (created: true).
  // Ids come from a sequence, so a run with this id is no other call's.
  let insertedId: string | undefined;
  const found = (r: KeyedRow): TriggeredRun => ({ id: r.id, dagId: r.dag_id, runId: r.run_id, logicalDate: r.logical_date, params: r.params, created: r.id === insertedId });
  return db.inTransaction(async (tx) => {
    const earlier = await runByTriggerKey(tx, triggerKey);
    if (earlier) return found(earlier);
    // FOR UPDATE (lock order: dag first) so that the run may be started right here, counted
    // against max_active_runs like the scheduler does.
    const row = (await tx.query<{ serialized: SerializedDag; version_hash: string; is_active: boolean; is_paused: boolean }>(sql('runs/dag_lock_for_run'), [dagId])).rows[0];
    if (!row) {
      const known = await tx.query<{ dag_id: string }>(sql('runs/dag_ids_active'));
      throw new UsageError(`unknown DAG id "${dagId}"; known DAGs: ${known.rows.map((r) => r.dag_id).join(', ') || '(none; is the DAG processor running?)'}`);
    }
    if (!row.is_active) throw new UsageError(`DAG "${dagId}" is not active: its file is gone or no longer defines it`);
    const resolved = resolveParams(row.serialized.params, input.params);
    if (!resolved.ok) throw new UsageError(`invalid params for DAG "${dagId}": ${resolved.errors.join('; ')}`);
    if (input.logicalDate && Number.isNaN(input.logicalDate.getTime())) throw new UsageError('logical date is not a valid date; use ISO-8601, e.g. 2026-01-01T00:00:00Z');
    // Without an explicit logical date, two triggers in the same instant must both succeed:
    // take the clock again and retry on the (dag, logical date) collision.
    for (let attempt = 0; ; attempt++) {
      const logicalDate = input.logicalDate ?? (await tx.query<{ t: Date }>(sql('db/clock_timestamp'))).rows[0]!.t;
      const runId = input.runId ?? runIdFor('manual', logicalDate);
      const id = await createRun(tx, row.serialized, row.version_hash, {
        runId, runType: 'manual', logicalDate, dataIntervalStart: logicalDate, dataIntervalEnd: logicalDate, params: resolved.params, triggerKey,
      });
      if (id) {
        insertedId = id;
        if (!row.is_paused) await startAndQueue(tx, row.serialized, row.version_hash, id);
        return { id, dagId, runId, logicalDate, params: resolved.params, created: true };
      }
      // A call with the same key that was still running when this one looked first: the
      // insert (ON CONFLICT DO NOTHING) waited for it to commit and met its key, so this new
      // statement sees its run (READ COMMITTED). Return that run rather than a clash.
      const raced = await runByTriggerKey(tx, triggerKey);
      if (raced) return found(raced);
      if (input.logicalDate || input.runId || attempt >= MAX_CLOCK_RETRIES) {
        throw new UsageError(`DAG "${dagId}" already has a run with run id "${runId}" or logical date ${logicalDate.toISOString()}; pick another`);
      }
    }
  });
}

const dagVersions = new DagVersionCache();

/**
 * The scheduler's first steps for a new run, done in the trigger's own transaction when
 * max_active_runs allows: start it, schedule its first tasks and queue them, so that a
 * worker can claim them as soon as the trigger commits. Otherwise the run stays queued for
 * a scheduler, as before.
 */
async function startAndQueue(tx: Tx, dag: SerializedDag, versionHash: string, runDbId: string): Promise<void> {
  const started = await tx.query<{ id: string }>(sql('runs/dag_run_start_queued'), [dag.dagId, dag.maxActiveRuns]);
  if (!started.rows.some((r) => r.id === runDbId)) return;
  const decided = await decideLockedRuns(tx, [{ id: runDbId, dag_id: dag.dagId, version_hash: versionHash }], dagVersions);
  if (decided.decisions > 0) await queueScheduled(tx, { batchSize: QUEUE_BATCH, dags: dagVersions });
}
