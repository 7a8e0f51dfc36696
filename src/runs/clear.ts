// Clearing task instances of a run so that they run again (CLI `keel tasks clear`, the
// API's clear and retry). One transaction, locks in the order dag_run → task_instance;
// nothing changes unless every named task can be cleared.
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { UsageError } from '../errors.js';

export class RunNotFoundError extends UsageError {}

/** Clears finished task instances of a run (all of them when taskIds is null); returns the cleared task ids. */
export async function clearTaskInstances(db: Database, runId: string, taskIds: string[] | null): Promise<string[]> {
  return db.inTransaction(async (tx) => {
    const run = (await tx.query(sql('runs/dag_run_lock'), [runId])).rows[0];
    if (!run) throw new RunNotFoundError(`no DAG run with id ${runId}; see \`keel runs list\``);
    const names = taskIds && taskIds.length ? taskIds : null;
    const busy = (await tx.query(sql('runs/task_instances_active'), [runId, names])).rows;
    if (busy.length) throw new UsageError(`cannot clear while running: ${busy.map((b) => `${b.task_id} (${b.state})`).join(', ')}; wait for them to finish`);
    const done = (await tx.query<{ task_id: string }>(sql('runs/task_instances_clear'), [runId, names])).rows.map((r) => r.task_id);
    if (names) {
      const unknown = names.filter((n) => !done.includes(n));
      // Throwing rolls back the ones that were cleared: all or nothing.
      if (unknown.length) throw new UsageError(`not cleared (unknown task or not finished): ${unknown.join(', ')}`);
    }
    if (done.length) {
      await tx.query(sql('runs/dag_run_reopen'), [runId]);
      await tx.query(sql('db/notify_scheduler'), [runId]);
    }
    return done;
  }, { idempotent: false, what: 'the clear' }); // run again after a lost COMMIT, it could clear a task that ran since (ADR 0005)
}
