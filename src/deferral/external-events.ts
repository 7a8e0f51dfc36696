// Posting an external event (CLI `keel events post`, API POST /api/v1/events): stored, then
// the triggerers are woken. The event id makes a retried post a no-op, so a client that
// lost the answer may post again without resuming anything twice.
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { UsageError } from '../errors.js';

export interface PostedEvent {
  id: string;
  key: string;
  eventId: string;
  postedAt: Date;
  /** false when an event with this event id had been posted already. */
  created: boolean;
}

export const EVENT_KEY_MAX = 400;

export async function postExternalEvent(db: Database, key: string, payload: unknown, eventId: string = randomUUID()): Promise<PostedEvent> {
  if (!key || key.length > EVENT_KEY_MAX) throw new UsageError(`event key: must be 1 to ${EVENT_KEY_MAX} characters, got ${key.length}`);
  if (!eventId || eventId.length > 200) throw new UsageError('event id: must be 1 to 200 characters');
  // The key is decided before the transaction: a retry after a lost COMMIT reuses it.
  return db.inTransaction(async (tx) => {
    const row = (await tx.query<{ id: string; posted_at: Date; created: boolean }>(sql('deferral/external_event_insert'), [key, eventId, JSON.stringify(payload ?? null)])).rows[0]!;
    if (row.created) await tx.query(sql('db/notify_triggerers'), [`external:${key}`]);
    return { id: row.id, key, eventId, postedAt: row.posted_at, created: row.created };
  });
}
