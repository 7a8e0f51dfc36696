// The per-username back-off of logins, beside the per-address rate limit: guessing one
// account's password from many addresses (or through a proxy that hides them) slows down
// too. Counted in PostgreSQL (src/db/queries/auth/login_attempt_*.sql), so every API copy
// applies the same wait.
import type { Database } from '../../db/database.js';
import { sql } from '../../db/sql.js';

export interface BackoffOptions {
  /** Logins since the last successful one before the username must wait. */
  after: number;
  maxSec: number;
}

/** Counts a login of `username` before its password is checked; null when it may go on, else the seconds to wait. */
export async function beginLogin(db: Database, username: string, opts: BackoffOptions): Promise<number | null> {
  if ((await db.query(sql('auth/login_attempt_begin'), [username, opts.after, opts.maxSec])).rowCount) return null;
  return (await db.query<{ wait_sec: number }>(sql('auth/login_attempt_wait'), [username])).rows[0]?.wait_sec ?? 1;
}

/** A successful login: the username's count starts again. */
export async function loginSucceeded(db: Database, username: string): Promise<void> {
  await db.query(sql('auth/login_attempt_clear'), [username]);
}
