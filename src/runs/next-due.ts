// When a DAG's next scheduled run is due: from its schedule and the last scheduled run
// stored, on the database clock. Shared by the DAG processor (on store) and the scheduler.
import type { SerializedDag } from '../core/types.js';
import { nextDueAt } from '../core/schedule.js';
import type { Tx } from '../db/database.js';
import { sql } from '../db/sql.js';

export async function lastScheduledLogicalDate(tx: Tx, dagId: string): Promise<Date | null> {
  const r = await tx.query<{ d: Date | null }>(sql('runs/dag_run_last_scheduled'), [dagId]);
  return r.rows[0]?.d ?? null;
}

export async function dbNow(tx: Tx): Promise<Date> {
  return (await tx.query<{ now: Date }>(sql('db/now'))).rows[0]!.now;
}

export function computeNextDue(dag: SerializedDag, last: Date | null, now: Date): Date | null {
  return nextDueAt({
    schedule: dag.schedule,
    startDate: new Date(dag.startDate),
    endDate: dag.endDate ? new Date(dag.endDate) : null,
    lastLogicalDate: last,
    now,
    catchup: dag.catchup,
  });
}
