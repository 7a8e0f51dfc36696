// Maintenance mode and the announcement banner, stored in the database (operator_notice,
// migration 0015) so that every copy of every role sees the same switch.
import type { Queryable } from '../db/queryable.js';
import { sql } from '../db/sql.js';

export interface OperatorNotice {
  maintenance: boolean;
  maintenanceMessage: string | null;
  maintenanceSince: Date | null;
  announcement: string | null;
  updatedAt: Date;
}

interface NoticeRow { maintenance: boolean; maintenance_message: string | null; maintenance_since: Date | null; announcement: string | null; updated_at: Date }

const toNotice = (r: NoticeRow): OperatorNotice => ({
  maintenance: r.maintenance, maintenanceMessage: r.maintenance_message, maintenanceSince: r.maintenance_since, announcement: r.announcement, updatedAt: r.updated_at,
});

export async function readOperatorNotice(db: Queryable): Promise<OperatorNotice> {
  return toNotice((await db.query<NoticeRow>(sql('ops/operator_notice'))).rows[0]!);
}

export async function setMaintenance(db: Queryable, on: boolean, message: string | null): Promise<OperatorNotice> {
  return toNotice((await db.query<NoticeRow>(sql('ops/maintenance_set'), [on, message])).rows[0]!);
}

export async function setAnnouncement(db: Queryable, text: string | null): Promise<OperatorNotice> {
  return toNotice((await db.query<NoticeRow>(sql('ops/announcement_set'), [text])).rows[0]!);
}

/** True while maintenance mode is on: no new runs, nothing queued. */
export async function maintenanceOn(db: Queryable): Promise<boolean> {
  return (await db.query<{ on: boolean }>(sql('ops/maintenance_on'))).rows[0]?.on ?? false;
}
