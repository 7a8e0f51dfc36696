// Creating a DAG run with its task instances: one transaction, idempotent through the
// unique constraints (a second scheduler or a repeated trigger creates nothing).
import { deadlineAt } from '../core/callbacks.js';
import type { SerializedDag } from '../core/types.js';
import type { Tx } from '../db/database.js';
import { sql } from '../db/sql.js';

export interface NewRun {
  runId: string;
  runType: 'scheduled' | 'manual' | 'backfill';
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  params: Record<string, unknown>;
  /** A manual trigger's client-generated key (idempotent retry). */
  triggerKey?: string;
}

export function runIdFor(runType: NewRun['runType'], logicalDate: Date): string {
  return `${runType}__${logicalDate.toISOString()}`;
}

/** Returns the new run's id, or null when such a run already exists. */
export async function createRun(tx: Tx, dag: SerializedDag, versionHash: string, run: NewRun): Promise<string | null> {
  // now() is the transaction's start: the created_at the insert records, the run's queued time.
  const queuedAt = dag.deadline?.reference === 'queued_at' ? (await tx.query<{ now: Date }>(sql('db/now'))).rows[0]!.now : run.logicalDate;
  const deadline = deadlineAt(dag.deadline, { logicalDate: run.logicalDate, queuedAt });
  const inserted = await tx.query<{ id: string }>(sql('runs/dag_run_insert'), [
    dag.dagId, run.runId, run.runType, run.logicalDate, run.dataIntervalStart, run.dataIntervalEnd, run.params, versionHash, run.triggerKey ?? null, deadline,
  ]);
  const id = inserted.rows[0]?.id;
  if (!id) return null;
  const t = dag.tasks;
  await tx.query(sql('runs/task_instances_insert'), [
    id, dag.dagId,
    t.map((x) => x.taskId), t.map((x) => x.retries + 1), t.map((x) => x.pool),
    t.map((x) => x.poolSlots), t.map((x) => x.priorityWeight), t.map((x) => x.queue),
  ]);
  await tx.query(sql('db/notify_scheduler'), [id]);
  return id;
}

/** The params of a run nobody passed params to: each param's default. */
export function defaultParams(dag: SerializedDag): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(dag.params)) if (spec.default !== undefined) out[name] = spec.default;
  return out;
}
