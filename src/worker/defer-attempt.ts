// Ending an attempt by deferral: the task instance waits on a new trigger and the worker
// slot is free. Like every end of an attempt it is conditional on the attempt id, so a
// fenced attempt defers nothing and its late write is recorded.
import type { Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { recordLateWrite } from '../fencing/end-attempt.js';
import type { Deferral } from './runner-protocol.js';

export interface DeferAttemptInput {
  taskInstanceId: string;
  attemptId: string;
  /** The DAG file, relative to the DAGs folder: custom triggers are defined there. */
  fileloc: string;
  deferral: Deferral;
  log: string;
  componentId: string;
}

/** Returns the new trigger's id, or null when the attempt had been fenced. */
export async function deferAttempt(tx: Tx, input: DeferAttemptInput): Promise<string | null> {
  const row = (await tx.query<{ id: string }>(sql('worker/task_instance_defer'), [
    input.taskInstanceId, input.attemptId, input.fileloc, JSON.stringify(input.deferral.trigger), input.deferral.timeoutSec,
  ])).rows[0];
  if (!row) {
    await recordLateWrite(tx, input, 'deferral');
    return null;
  }
  await tx.query(sql('fencing/task_attempt_end'), [input.attemptId, 'deferred', null, input.log]);
  await tx.query(sql('db/notify_triggerers'), ['deferred']);
  return row.id;
}
