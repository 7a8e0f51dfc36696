// Backfill planning (Airflow 3's backfill semantics), pure: which data intervals of a DAG's
// schedule have their logical date in [from, to], what --reprocess does with a logical date
// that already has a run, how many runs a scheduler starts next, and the time-left estimate
// of a progress display. "now" is always passed in (the database clock).
import { intervalAfter, type DataInterval } from './schedule.js';
import type { Schedule } from './types.js';

export const REPROCESS = ['none', 'failed', 'all'] as const;
export type Reprocess = (typeof REPROCESS)[number];

/** Most logical dates one backfill may plan: the plan is written in one transaction. */
export const MAX_BACKFILL_RUNS = 10000;

/** The request cannot be planned; the message says which input to change. */
export class BackfillPlanError extends Error {}

export interface BackfillRange {
  schedule: Schedule;
  startDate: Date;
  endDate: Date | null;
  from: Date;
  to: Date;
  now: Date;
}

const iso = (d: Date) => d.toISOString();

/**
 * The complete intervals (end <= now) whose logical date is within [from, to], oldest first.
 * Refuses a DAG without a schedule, from after to, a range that starts before the DAG's
 * startDate or ends after its endDate or in the future, and a range with no interval in it.
 */
export function backfillIntervals(r: BackfillRange): DataInterval[] {
  if (r.schedule.kind === 'none') {
    throw new BackfillPlanError('the DAG has no schedule, so it has no intervals to backfill; trigger runs with `keel dags trigger --logical-date` instead');
  }
  if (r.from > r.to) throw new BackfillPlanError(`--from ${iso(r.from)} is after --to ${iso(r.to)}; swap them`);
  if (r.from < r.startDate) throw new BackfillPlanError(`--from ${iso(r.from)} is before the DAG's startDate ${iso(r.startDate)}; use --from ${iso(r.startDate)} or later`);
  if (r.endDate && r.to > r.endDate) throw new BackfillPlanError(`--to ${iso(r.to)} is after the DAG's endDate ${iso(r.endDate)}; use --to ${iso(r.endDate)} or earlier`);
  if (r.to > r.now) throw new BackfillPlanError(`--to ${iso(r.to)} is in the future (it is ${iso(r.now)}); a backfill covers intervals that have ended, the scheduler creates the later ones`);
  const out: DataInterval[] = [];
  // Start just before `from`: the first interval found starts at or after it, without walking from startDate.
  let iv = intervalAfter(r.schedule, r.startDate, new Date(r.from.getTime() - 1));
  while (iv && iv.start <= r.to && iv.end <= r.now && (!r.endDate || iv.start < r.endDate)) {
    if (out.length >= MAX_BACKFILL_RUNS) {
      throw new BackfillPlanError(`the range holds more than ${MAX_BACKFILL_RUNS} intervals; split it into several backfills, one after the other`);
    }
    out.push(iv);
    iv = intervalAfter(r.schedule, r.startDate, iv.start);
  }
  if (!out.length) {
    throw new BackfillPlanError(`no complete interval of the DAG's schedule has its logical date between ${iso(r.from)} and ${iso(r.to)}; widen the range`);
  }
  return out;
}

export type RunState = 'queued' | 'running' | 'success' | 'failed';

export interface ExistingRun {
  /** dag_run id. */
  id: string;
  state: RunState;
}

export interface PlannedDate {
  logicalDate: Date;
  start: Date;
  end: Date;
  /** create: a new run; clear: the existing run runs again; skip: left as it is. */
  action: 'create' | 'clear' | 'skip';
  /** The existing run of this logical date, if any. */
  runId: string | null;
  /** Why a date is skipped. */
  reason: string | null;
}

/**
 * What each interval gets, given the runs that already exist (by logical date, ISO string):
 * none runs; a queued or running one is in flight and always kept; a finished one is kept
 * with reprocess none, cleared with all, and with failed only when it failed.
 */
export function planBackfill(intervals: readonly DataInterval[], existing: ReadonlyMap<string, ExistingRun>, reprocess: Reprocess): PlannedDate[] {
  return intervals.map((iv) => {
    const base = { logicalDate: iv.logicalDate, start: iv.start, end: iv.end };
    const run = existing.get(iso(iv.logicalDate));
    if (!run) return { ...base, action: 'create', runId: null, reason: null };
    const skip = (reason: string): PlannedDate => ({ ...base, action: 'skip', runId: run.id, reason });
    if (run.state === 'queued' || run.state === 'running') return skip(`run ${run.id} is ${run.state}`);
    if (reprocess === 'all' || (reprocess === 'failed' && run.state === 'failed')) return { ...base, action: 'clear', runId: run.id, reason: null };
    return skip(reprocess === 'none'
      ? `run ${run.id} exists (${run.state}); --reprocess ${run.state === 'failed' ? 'failed' : 'all'} would run it again`
      : `run ${run.id} succeeded; --reprocess all would run it again`);
  });
}

/** What a scheduler does with a running backfill on one turn. */
export function backfillStep(b: { maxActiveRuns: number; active: number; planned: number }): { start: number; done: boolean } {
  return { start: Math.max(0, Math.min(b.planned, b.maxActiveRuns - b.active)), done: b.planned === 0 && b.active === 0 };
}

/**
 * Seconds left at the pace seen so far (runs ended per second since the watch began, from
 * `doneAtStart` ended then); null until one run ended while watching.
 */
export function secondsLeft(p: { total: number; ended: number; doneAtStart: number; elapsedSec: number }): number | null {
  const finished = p.ended - p.doneAtStart;
  if (finished <= 0 || p.elapsedSec <= 0) return null;
  return Math.max(0, Math.round(((p.total - p.ended) * p.elapsedSec) / finished));
}
