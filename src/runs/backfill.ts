// Backfills: an operator asks for the runs of a DAG's past intervals in [from, to] (CLI
// `keel dags backfill`, the API, the UI); the schedulers create them progressively.
//
// Creation is one transaction: it locks the DAG row (lock order: dag first), so that two
// creations for one DAG take turns and the second sees the first's committed row and is
// refused when the ranges overlap; it plans the logical dates with src/core/backfill-plan.ts
// and writes the backfill with every planned date. A dry run plans and writes nothing.
//
// Driving (any scheduler, on each turn): running backfills are locked FOR UPDATE SKIP
// LOCKED, so each is driven by one scheduler at a time; that one creates (or clears) the
// next planned dates until max_active_runs of the backfill's runs are active, and marks the
// backfill done once nothing is planned or active. A run is never made twice: dag_run is
// unique per (dag, logical date), and a date moves from planned in the same transaction.
// Lock order: dag → backfill → dag_run → task_instance.
//
// Cancelling marks the backfill cancelled (waiting for a scheduler that holds it, so no run
// is created after), then cancels its queued and running runs through cancelRun: running
// attempts are stopped, as `keel runs cancel` does (Airflow lets them finish; here a cancel
// means nothing of the backfill runs on). Cancelling again finishes a cancel that was cut
// short.
import { backfillIntervals, BackfillPlanError, backfillStep, planBackfill, type ExistingRun, type PlannedDate, type Reprocess, type RunState } from '../core/backfill-plan.js';
import type { SerializedDag } from '../core/types.js';
import type { Database, Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { createRun, defaultParams, runIdFor } from './create-run.js';
import { dbNow } from './next-due.js';
import { cancelRun, clearTasksIn, LifecycleConflictError, RunNotFoundError, type Actor } from './lifecycle.js';

/** Unknown DAG or backfill (an API 404). */
export class BackfillNotFoundError extends UsageError {}
/** Another running backfill of the DAG overlaps the range, or the backfill is not running (an API 409). */
export class BackfillConflictError extends UsageError {}

export interface BackfillRequest {
  dagId: string;
  from: Date;
  to: Date;
  reprocess: Reprocess;
  /** Default: the DAG's maxActiveRuns. */
  maxActiveRuns?: number;
  dryRun?: boolean;
  createdBy: string;
}

export interface BackfillPlanned {
  /** The new backfill's id; null on a dry run. */
  id: string | null;
  dagId: string;
  from: Date;
  to: Date;
  reprocess: Reprocess;
  maxActiveRuns: number;
  dryRun: boolean;
  /** The DAG is paused: the backfill waits until it is unpaused. */
  dagPaused: boolean;
  dates: PlannedDate[];
}

/** Plans a backfill and, unless a dry run, stores it with its planned dates. */
export async function createBackfill(db: Database, req: BackfillRequest): Promise<BackfillPlanned> {
  if (Number.isNaN(req.from.getTime()) || Number.isNaN(req.to.getTime())) throw new UsageError('--from and --to must be valid dates; use ISO-8601, e.g. 2026-01-01T00:00:00Z');
  // Not retried after a lost COMMIT: the retry would find its own backfill and refuse it as overlapping.
  return db.inTransaction(async (tx) => {
    const dag = (await tx.query<{ serialized: SerializedDag; is_active: boolean; is_paused: boolean }>(sql('runs/dag_lock_for_run'), [req.dagId])).rows[0];
    if (!dag) {
      const known = (await tx.query<{ dag_id: string }>(sql('runs/dag_ids_active'))).rows.map((r) => r.dag_id);
      throw new BackfillNotFoundError(`unknown DAG id "${req.dagId}"; known DAGs: ${known.join(', ') || '(none; is the DAG processor running?)'}`);
    }
    if (!dag.is_active) throw new UsageError(`DAG "${req.dagId}" is not active: its file is gone or no longer defines it`);
    const s = dag.serialized;
    let intervals;
    try {
      intervals = backfillIntervals({
        schedule: s.schedule, startDate: new Date(s.startDate), endDate: s.endDate ? new Date(s.endDate) : null, from: req.from, to: req.to, now: await dbNow(tx),
      });
    } catch (err) {
      if (err instanceof BackfillPlanError) throw new UsageError(`cannot backfill DAG "${req.dagId}": ${err.message}`);
      throw err;
    }
    const overlapping = (await tx.query<{ id: string; from_date: Date; to_date: Date; created_by: string }>(sql('backfill/backfills_overlapping'), [req.dagId, req.from, req.to])).rows[0];
    if (overlapping) {
      throw new BackfillConflictError(`DAG "${req.dagId}" already has running backfill ${overlapping.id} (${overlapping.from_date.toISOString()} to ${overlapping.to_date.toISOString()}, by ${overlapping.created_by}) overlapping this range; `
        + `wait for it to end (\`keel backfills show ${overlapping.id}\`) or cancel it (\`keel backfills cancel ${overlapping.id}\`)`);
    }
    const existing = new Map<string, ExistingRun>();
    for (const r of (await tx.query<{ id: string; logical_date: Date; state: RunState }>(sql('backfill/dag_runs_in_range'), [req.dagId, req.from, req.to])).rows) {
      existing.set(r.logical_date.toISOString(), { id: r.id, state: r.state });
    }
    const dates = planBackfill(intervals, existing, req.reprocess);
    const maxActiveRuns = req.maxActiveRuns ?? s.maxActiveRuns;
    const planned: BackfillPlanned = { id: null, dagId: req.dagId, from: req.from, to: req.to, reprocess: req.reprocess, maxActiveRuns, dryRun: Boolean(req.dryRun), dagPaused: dag.is_paused, dates };
    if (req.dryRun) return planned;
    const id = (await tx.query<{ id: string }>(sql('backfill/backfill_insert'), [req.dagId, req.from, req.to, req.reprocess, maxActiveRuns, req.createdBy])).rows[0]!.id;
    await tx.query(sql('backfill/backfill_runs_insert'), [
      id, dates.map((d) => d.logicalDate), dates.map((d) => d.start), dates.map((d) => d.end), dates.map((d) => d.action), dates.map((d) => d.runId), dates.map((d) => d.reason),
    ]);
    // An empty payload wakes the schedulers for a full turn, which drives backfills.
    await tx.query(sql('db/notify_scheduler'), ['']);
    return { ...planned, id };
  }, { idempotent: false, what: 'the backfill' });
}

export interface BackfillProgress {
  id: string;
  dagId: string;
  from: Date;
  to: Date;
  reprocess: Reprocess;
  maxActiveRuns: number;
  state: 'running' | 'done' | 'cancelled';
  createdBy: string;
  createdAt: Date;
  completedAt: Date | null;
  cancelledBy: string | null;
  /** Planned dates in all. */
  total: number;
  /** Not started yet. */
  planned: number;
  skipped: number;
  /** Runs queued or running. */
  active: number;
  success: number;
  failed: number;
}

type ProgressRow = {
  id: string; dag_id: string; from_date: Date; to_date: Date; reprocess: Reprocess; max_active_runs: number; state: BackfillProgress['state']; created_by: string;
  created_at: Date; completed_at: Date | null; cancelled_by: string | null; total: number; planned: number; skipped: number; active: number; success: number; failed: number;
};

const toProgress = (r: ProgressRow): BackfillProgress => ({
  id: r.id, dagId: r.dag_id, from: r.from_date, to: r.to_date, reprocess: r.reprocess, maxActiveRuns: r.max_active_runs, state: r.state, createdBy: r.created_by,
  createdAt: r.created_at, completedAt: r.completed_at, cancelledBy: r.cancelled_by, total: r.total, planned: r.planned, skipped: r.skipped, active: r.active, success: r.success, failed: r.failed,
});

/** Dates that have ended: skipped, or their run ended. */
export const endedCount = (p: BackfillProgress): number => p.skipped + p.success + p.failed;

export async function backfillProgress(db: Database, id: string): Promise<BackfillProgress> {
  const row = (await db.query<ProgressRow>(sql('backfill/backfills_progress'), [id, null, 1])).rows[0];
  if (!row) throw new BackfillNotFoundError(`no backfill with id ${id}; see \`keel backfills list\``);
  return toProgress(row);
}

export async function listBackfills(db: Database, f: { dagId: string | null; limit: number }): Promise<BackfillProgress[]> {
  return (await db.reads.query<ProgressRow>(sql('backfill/backfills_progress'), [null, f.dagId, f.limit])).rows.map(toProgress);
}

export interface BackfillDate {
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  action: PlannedDate['action'];
  state: 'planned' | 'started' | 'skipped';
  runId: string | null;
  runState: RunState | null;
  reason: string | null;
}

export async function backfillDates(db: Database, id: string): Promise<BackfillDate[]> {
  await backfillProgress(db, id);
  const rows = (await db.reads.query<{ logical_date: Date; data_interval_start: Date; data_interval_end: Date; action: BackfillDate['action']; state: BackfillDate['state']; dag_run_id: string | null; run_state: RunState | null; reason: string | null }>(
    sql('backfill/backfill_dates'), [id])).rows;
  return rows.map((r) => ({ logicalDate: r.logical_date, dataIntervalStart: r.data_interval_start, dataIntervalEnd: r.data_interval_end, action: r.action, state: r.state, runId: r.dag_run_id, runState: r.run_state, reason: r.reason }));
}

export interface CancelledBackfill {
  id: string;
  dagId: string;
  /** false: it was already cancelled (its runs still active were cancelled now). */
  cancelledNow: boolean;
  /** Runs of it that this call cancelled. */
  cancelledRuns: string[];
}

/** Cancels a running backfill and its queued and running runs; on a cancelled one, cancels the runs left. */
export async function cancelBackfill(db: Database, id: string, who: Actor): Promise<CancelledBackfill> {
  const { row, cancelledNow, active } = await db.inTransaction(async (tx) => {
    const now = (await tx.query(sql('backfill/backfill_cancel'), [id, who.actor])).rowCount === 1;
    // Read after the cancel, which may have waited for a scheduler that ended the backfill meanwhile.
    const current = (await tx.query<{ id: string; dag_id: string; state: string }>(sql('backfill/backfill_state'), [id])).rows[0];
    if (!current) throw new BackfillNotFoundError(`no backfill with id ${id}; see \`keel backfills list\``);
    if (!now && current.state === 'done') throw new BackfillConflictError(`backfill ${id} is already done; there is nothing to cancel`);
    // After the cancel (or a wait on the scheduler holding the row): every run it started is listed.
    const runs = (await tx.query<{ id: string }>(sql('backfill/backfill_active_runs'), [id])).rows.map((r) => r.id);
    return { row: current, cancelledNow: now, active: runs };
  }, { what: 'the backfill cancel' });
  const cancelledRuns: string[] = [];
  for (const runId of active) {
    try {
      await cancelRun(db, runId, who);
      cancelledRuns.push(runId);
    } catch (err) {
      // It ended (or was cancelled by someone else) in between: nothing left to stop.
      if (!(err instanceof LifecycleConflictError || err instanceof RunNotFoundError)) throw err;
    }
  }
  return { id, dagId: row.dag_id, cancelledNow, cancelledRuns };
}

type LockedBackfill = { id: string; dag_id: string; max_active_runs: number; reprocess: Reprocess; created_by: string; serialized: SerializedDag; version_hash: string };
type NextDate = { sort_ordinal: number; logical_date: Date; data_interval_start: Date; data_interval_end: Date; action: 'create' | 'clear'; dag_run_id: string | null };

export interface DriveResult {
  /** Runs created or cleared. */
  started: number;
  /** Backfills marked done. */
  done: number;
}

/** One scheduler turn over the running backfills no other scheduler holds. */
export async function driveBackfills(db: Database, opts: { batchSize: number; lifecycle: Omit<Actor, 'actor'> }, log: Logger): Promise<DriveResult> {
  return db.inTransaction(async (tx) => {
    const result: DriveResult = { started: 0, done: 0 };
    const backfills = (await tx.query<LockedBackfill>(sql('backfill/backfills_lock_running'), [opts.batchSize])).rows;
    for (const b of backfills) {
      const counts = (await tx.query<{ active: number; planned: number }>(sql('backfill/backfill_counts'), [b.id])).rows[0]!;
      const step = backfillStep({ maxActiveRuns: b.max_active_runs, active: counts.active, planned: counts.planned });
      if (step.done) {
        await tx.query(sql('backfill/backfill_done'), [b.id]);
        result.done++;
        log.info({ backfillId: b.id, dagId: b.dag_id }, 'backfill done');
        continue;
      }
      if (!step.start) continue;
      const next = (await tx.query<NextDate>(sql('backfill/backfill_runs_next'), [b.id, step.start])).rows;
      for (const date of next) {
        const outcome = date.action === 'create' ? await createBackfillRun(tx, b, date) : await clearBackfillRun(tx, b, date, opts.lifecycle);
        if ('runId' in outcome) {
          await tx.query(sql('backfill/backfill_run_set'), [b.id, date.sort_ordinal, 'started', outcome.runId, null]);
          result.started++;
          log.info({ backfillId: b.id, dagId: b.dag_id, logicalDate: date.logical_date.toISOString(), runId: outcome.runId, action: date.action }, 'backfill run started');
        } else {
          await tx.query(sql('backfill/backfill_run_set'), [b.id, date.sort_ordinal, 'skipped', null, outcome.skipped]);
        }
      }
    }
    return result;
  });
}

type Outcome = { runId: string } | { skipped: string };

async function createBackfillRun(tx: Tx, b: LockedBackfill, date: NextDate): Promise<Outcome> {
  const id = await createRun(tx, b.serialized, b.version_hash, {
    runId: runIdFor('backfill', date.logical_date), runType: 'backfill', logicalDate: date.logical_date,
    dataIntervalStart: date.data_interval_start, dataIntervalEnd: date.data_interval_end, params: defaultParams(b.serialized),
  });
  if (!id) return { skipped: 'another run was made for this logical date after the backfill was planned' };
  await tx.query(sql('runs/dag_run_start'), [id]);
  return { runId: id };
}

async function clearBackfillRun(tx: Tx, b: LockedBackfill, date: NextDate, lifecycle: Omit<Actor, 'actor'>): Promise<Outcome> {
  const runId = date.dag_run_id!;
  try {
    await clearTasksIn(tx, runId, { taskIds: null, onlyFailed: b.reprocess === 'failed' }, { actor: `backfill ${b.id} by ${b.created_by}`, ...lifecycle }, { backfillId: b.id });
    return { runId };
  } catch (err) {
    // Thrown before the clear wrote anything (clearTasksIn): the date is skipped, the backfill goes on.
    if (err instanceof LifecycleConflictError || err instanceof RunNotFoundError) return { skipped: `run ${runId} could not be cleared: ${err.message}` };
    throw err;
  }
}
