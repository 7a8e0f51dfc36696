// The two scheduling steps that move task instances forward, as functions of a
// transaction: deciding locked runs (trigger rules, due retries, run completion) and
// queueing within the shared budget. Schedulers run them on every turn; a worker runs them
// for the run of a task it just ended, in the same transaction, so the next task of a
// chain is queued without waiting for a scheduler turn.
import { runCallbackFor } from '../core/callbacks.js';
import { decideRun, type TaskInstanceView } from '../core/run-decision.js';
import { pickToQueue, type QueueCandidate } from '../core/queueing.js';
import type { TaskState } from '../core/types.js';
import type { DagVersionCache, VersionKey } from '../db/dag-versions.js';
import { underSavepoint, type Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { debugPoint } from '../debug-point.js';
import { maintenanceOn } from '../ha/operator-notice.js';
import type { Logger } from '../log.js';
import { recordCallback } from './callbacks.js';

/** "keel queueing critical section": one transaction at a time spends the pools' budget. */
export const QUEUE_LOCK_KEY = 7_283_310_002;
/** Longest wait for the queueing lock before a copy gives up and does other work. */
const QUEUE_LOCK_WAIT_MS = 200;

export interface LockedRun extends VersionKey {
  id: string;
}

export interface DecideResult {
  decisions: number;
  finished: number;
}

/** Applies trigger rules and due retries to runs the caller has locked, and finishes complete runs. */
export async function decideLockedRuns(tx: Tx, runs: readonly LockedRun[], dags: DagVersionCache, log?: Logger): Promise<DecideResult> {
  if (runs.length === 0) return { decisions: 0, finished: 0 };
  await dags.load(tx, runs);
  const runIds = runs.map((r) => r.id);
  const tis = await tx.query<{ id: string; dag_run_id: string; task_id: string; state: TaskState; retry_due: boolean }>(sql('runs/task_instances_of_runs'), [runIds]);
  const byRun = new Map<string, TaskInstanceView[]>();
  for (const t of tis.rows) {
    const list = byRun.get(t.dag_run_id) ?? [];
    list.push({ id: t.id, taskId: t.task_id, state: t.state, retryDue: t.retry_due });
    byRun.set(t.dag_run_id, list);
  }
  const ids: string[] = [];
  const states: string[] = [];
  let finished = 0;
  for (const run of runs) {
    const dag = dags.get(run);
    if (!dag) continue;
    const decision = decideRun(dag, byRun.get(run.id) ?? []);
    for (const c of decision.changes) {
      ids.push(c.id);
      states.push(c.to);
    }
    if (decision.runState !== 'running') {
      const ended = (await tx.query<{ end_count: number }>(sql('runs/dag_run_finish'), [run.id, decision.runState])).rows[0];
      // The run's end is decided here (or by an operator's mark, or its timeout): its callback is recorded with it.
      const kind = ended ? runCallbackFor(dag, decision.runState) : null;
      if (kind && ended) await recordCallback(tx, { kind, dagRunId: run.id, runEnd: ended.end_count }, dag.callbackQueue ?? 'default', { state: decision.runState });
      if (ended) await debugPoint('run_end');
      finished++;
      log?.info({ dagId: run.dag_id, runId: run.id, state: decision.runState }, `run ${decision.runState}`);
    }
  }
  if (ids.length) await tx.query(sql('runs/task_instances_apply_decisions'), [ids, states]);
  await tx.query(sql('runs/dag_run_mark_examined'), [runIds]);
  return { decisions: ids.length, finished };
}

export interface QueueOptions {
  batchSize: number;
  dags: DagVersionCache;
  onContention?: (lock: 'queue_lock' | 'pool_rows') => void;
}

export interface QueueResult {
  queued: number;
  /** Another transaction held the budget: what it saw may predate our scheduled rows, so look again soon. */
  contended: boolean;
}

const NOTHING: QueueResult = { queued: 0, contended: false };
const CONTENDED: QueueResult = { queued: 0, contended: true };
/** 55P03: a lock timeout, or a NOWAIT lock another transaction holds. */
const isLockNotAvailable = (err: unknown) => (err as { code?: string }).code === '55P03';

/**
 * The budget step: pools and max_active_tasks, highest priority first. Copies take turns
 * on a transaction-level advisory lock, waiting at most QUEUE_LOCK_WAIT_MS for it: the
 * critical section takes milliseconds, and a copy that waits sees what the previous holder
 * committed, where a copy that gave up at once might leave freshly scheduled rows to a
 * holder that started before they existed. Past the wait (a holder frozen mid-transaction)
 * it gives up and does other work.
 */
export async function queueScheduled(tx: Tx, opts: QueueOptions): Promise<QueueResult> {
  // Maintenance mode: scheduled instances stay scheduled; workers finish what they run.
  if (await maintenanceOn(tx)) return NOTHING;
  const locked = await underSavepoint(tx, async () => {
    await tx.query(sql('db/lock_timeout_set'), [String(QUEUE_LOCK_WAIT_MS)]);
    await tx.query(sql('db/advisory_xact_lock'), [QUEUE_LOCK_KEY]);
    await tx.query(sql('db/lock_timeout_set'), ['0']);
  }, isLockNotAvailable);
  if (!locked) {
    opts.onContention?.('queue_lock');
    return CONTENDED;
  }
  const rows = await tx.query<{ id: string; dag_run_id: string; pool: string; pool_slots: number; priority_weight: number; scheduled_at: Date } & VersionKey>(
    sql('runs/task_instances_lock_scheduled'), [opts.batchSize * 4],
  );
  if (rows.rows.length === 0) return NOTHING;
  const pools = (await underSavepoint(tx, () => tx.query<{ name: string; slots: number }>(sql('runs/pools_lock')), isLockNotAvailable))?.value;
  if (!pools) {
    opts.onContention?.('pool_rows');
    return CONTENDED; // a pool is being changed right now
  }
  await opts.dags.load(tx, rows.rows);
  const used = new Map((await tx.query<{ pool: string; used: number }>(sql('runs/pool_occupancy'))).rows.map((r) => [r.pool, r.used]));
  const openPoolSlots = new Map(pools.rows.map((p) => [p.name, p.slots - (used.get(p.name) ?? 0)]));
  const runIds = [...new Set(rows.rows.map((r) => r.dag_run_id))];
  const active = new Map((await tx.query<{ dag_run_id: string; active: number }>(sql('runs/run_active_task_counts'), [runIds])).rows.map((r) => [r.dag_run_id, r.active]));
  const maxActive = new Map(rows.rows.map((r) => [r.dag_run_id, opts.dags.get(r)?.maxActiveTasks ?? Infinity]));
  const candidates: QueueCandidate[] = rows.rows.map((r) => ({
    id: r.id, dagRunId: r.dag_run_id, pool: r.pool, poolSlots: r.pool_slots, priorityWeight: r.priority_weight, scheduledAt: r.scheduled_at,
  }));
  const chosen = pickToQueue({ candidates, openPoolSlots, activeTasksPerRun: active, maxActiveTasksPerRun: maxActive, limit: opts.batchSize });
  if (chosen.length === 0) return NOTHING;
  await tx.query(sql('runs/task_instances_queue'), [chosen]);
  return { queued: chosen.length, contended: false };
}
