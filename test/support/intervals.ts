// Checks on when attempts ran, from the database's own timestamps (never wall-clock speed).
import type { Database } from '../../src/db/database.js';

export interface Span {
  label: string;
  start: Date;
  end: Date;
}

/** Attempts of the given runs' task instances, ordered by start. */
export async function attemptSpans(db: Database, runIds: string[]): Promise<Span[]> {
  const r = await db.query<{ label: string; started_at: Date; ended_at: Date | null }>(
    `SELECT ti.dag_run_id || '/' || ti.task_id || '#' || a.try_number AS label, a.started_at, a.ended_at
     FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id
     WHERE ti.dag_run_id = ANY ($1::bigint[]) ORDER BY a.started_at, a.attempt_id`, [runIds],
  );
  return r.rows.map((x) => {
    if (!x.ended_at) throw new Error(`attempt ${x.label} has not ended`);
    return { label: x.label, start: x.started_at, end: x.ended_at };
  });
}

/** Pairs of spans that overlap in time (sorted by start). */
export function overlaps(spans: Span[]): [string, string][] {
  const sorted = [...spans].sort((a, b) => a.start.getTime() - b.start.getTime());
  const out: [string, string][] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      if (sorted[j]!.start < sorted[i]!.end) out.push([sorted[i]!.label, sorted[j]!.label]);
    }
  }
  return out;
}
