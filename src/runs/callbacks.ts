// Recording a callback to run: one row in the transaction that records its event, keyed so
// that one event can never be recorded twice (docs/decisions/0008-callbacks-recorded-once.md).
// Workers run the rows (src/worker/callbacks.ts); schedulers take back those whose worker
// was lost.
import { callbackKey, type CallbackEvent } from '../core/callbacks.js';
import type { Database, Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { COMPONENT_LOCK_CLASS } from '../ha/session.js';
import type { Logger } from '../log.js';

/** What a callback function is told besides the run's own facts. */
export interface RecordedContext {
  state: string;
  error?: string | null;
  reason?: string;
  deadline?: string;
}

/** Records the callback of an event (once: a second record of the same event inserts nothing) and wakes the workers of its queue. */
export async function recordCallback(tx: Tx, event: CallbackEvent, queue: string, context: RecordedContext): Promise<boolean> {
  const key = callbackKey(event);
  const inserted = await tx.query(sql('callbacks/callback_insert'), [key.kind, key.dagRunId, key.taskId, key.seq, queue, context]);
  if (inserted.rows.length === 0) return false;
  await tx.query(sql('db/notify_workers'), [queue]);
  return true;
}

/** Claims of one callback whose worker was lost before it failed for good: a callback that kills its worker is not run forever. */
export const CALLBACK_MAX_CLAIMS = 3;

export interface TakeBackOptions {
  batchSize: number;
  componentId: string | null;
  dbOutageGraceSec: number;
  workerLostAfterSec: number;
}

/**
 * Callbacks whose worker was lost go back to pending for another worker, which runs them
 * again: execution is at least once, the recorded end at most once (it is conditional on
 * the claim id). `expired`: the lease ran out (a frozen or cut-off worker, or a dead one
 * nobody noticed sooner); `orphaned`: the worker's process is gone (session lock released,
 * heartbeat stale), noticed within about a second. Returns how many.
 */
export async function takeBackLostCallbacks(db: Database, opts: TakeBackOptions, log: Logger, which: 'expired' | 'orphaned'): Promise<number> {
  return db.inTransaction(async (tx) => {
    const lost = (await tx.query<{ id: string; kind: string; dag_run_id: string; task_id: string; state: string; queue: string; claim_id: string; worker_id: string | null }>(
      which === 'expired' ? sql('callbacks/callbacks_take_back_expired') : sql('callbacks/callbacks_take_back_orphaned'),
      which === 'expired' ? [opts.batchSize, opts.dbOutageGraceSec, CALLBACK_MAX_CLAIMS]
        : [opts.batchSize, opts.dbOutageGraceSec, opts.workerLostAfterSec, COMPONENT_LOCK_CLASS, CALLBACK_MAX_CLAIMS])).rows;
    for (const c of lost) {
      await tx.query(sql('ha/ha_event_insert'), ['callback_lost', opts.componentId, {
        reason: which === 'expired' ? 'lease_expired' : 'worker_gone', callbackId: c.id, kind: c.kind, dagRunId: c.dag_run_id, taskId: c.task_id || null, claimId: c.claim_id, workerId: c.worker_id, next: c.state,
      }]);
      log.warn({ callbackId: c.id, kind: c.kind, claimId: c.claim_id, reason: which, next: c.state }, 'callback taken back: its worker was lost');
    }
    for (const q of new Set(lost.filter((c) => c.state === 'pending').map((c) => c.queue))) await tx.query(sql('db/notify_workers'), [q]);
    return lost.length;
  });
}
