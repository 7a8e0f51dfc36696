// Triggering DAG runs and reading their timestamps. Every duration is computed from
// timestamps of the database clock, read as epoch milliseconds with microsecond precision
// (a JS Date would round them to whole milliseconds).
import type { Database } from '../../src/db/database.js';
import { triggerDag, type TriggeredRun } from '../../src/runs/manual-run.js';
import { waitFor } from './stats.js';

let nextLogicalDate = Date.UTC(2000, 0, 1);

/** A manual run with a logical date of its own, so that concurrent triggers never collide. */
export function trigger(db: Database, dagId: string): Promise<TriggeredRun> {
  nextLogicalDate += 1000;
  return triggerDag(db, dagId, { logicalDate: new Date(nextLogicalDate) });
}

export async function waitRunsEnded(db: Database, runIds: string[], timeoutMs: number, everyMs = 25): Promise<void> {
  await waitFor(`${runIds.length} run(s) to finish`, async () => {
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dag_run WHERE id = ANY($1::bigint[]) AND state IN ('success', 'failed')`, [runIds]);
    return r.rows[0]!.n === runIds.length;
  }, timeoutMs, everyMs);
}

const epoch = (col: string) => `(extract(epoch FROM ${col}) * 1000)::float8`;

export interface RunTimes {
  id: string;
  state: string;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

export interface TaskTimes {
  runId: string;
  taskId: string;
  state: string;
  scheduledAt: number | null;
  queuedAt: number | null;
  startedAt: number | null;
  endedAt: number | null;
}

export async function runTimes(db: Database, runIds: string[]): Promise<RunTimes[]> {
  const r = await db.query<{ id: string; state: string; created_at: number; started_at: number | null; ended_at: number | null }>(
    `SELECT id, state, ${epoch('created_at')} AS created_at, ${epoch('started_at')} AS started_at, ${epoch('ended_at')} AS ended_at
     FROM dag_run WHERE id = ANY($1::bigint[]) ORDER BY id`, [runIds]);
  return r.rows.map((x) => ({ id: x.id, state: x.state, createdAt: x.created_at, startedAt: x.started_at, endedAt: x.ended_at }));
}

export async function taskTimes(db: Database, runIds: string[]): Promise<TaskTimes[]> {
  const r = await db.query<{ dag_run_id: string; task_id: string; state: string; scheduled_at: number | null; queued_at: number | null; started_at: number | null; ended_at: number | null }>(
    `SELECT dag_run_id, task_id, state, ${epoch('scheduled_at')} AS scheduled_at, ${epoch('queued_at')} AS queued_at,
            ${epoch('started_at')} AS started_at, ${epoch('ended_at')} AS ended_at
     FROM task_instance WHERE dag_run_id = ANY($1::bigint[]) ORDER BY dag_run_id, task_id`, [runIds]);
  return r.rows.map((x) => ({ runId: x.dag_run_id, taskId: x.task_id, state: x.state, scheduledAt: x.scheduled_at, queuedAt: x.queued_at, startedAt: x.started_at, endedAt: x.ended_at }));
}

/**
 * How many transactions moved these task instances: now() is the transaction's start time,
 * so every distinct timestamp is one scheduler examine (scheduled_at), one queueing
 * transaction (queued_at), one worker claim (started_at) or one attempt end (ended_at).
 */
export async function transactionCounts(db: Database, runIds: string[]): Promise<{ examine: number; queue: number; claim: number; end: number }> {
  const r = await db.query<{ examine: number; queue: number; claim: number; end: number }>(
    `SELECT count(DISTINCT scheduled_at)::int AS examine, count(DISTINCT queued_at)::int AS queue,
            count(DISTINCT started_at)::int AS claim, count(DISTINCT ended_at)::int AS "end"
     FROM task_instance WHERE dag_run_id = ANY($1::bigint[])`, [runIds]);
  return r.rows[0]!;
}

/** b - a, or NaN when either is missing. */
export function gap(a: number | null, b: number | null): number {
  return a === null || b === null ? Number.NaN : b - a;
}
