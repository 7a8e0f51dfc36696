// Whether the database takes writes, as the API last saw it (at most a second old): while
// it is read-only (a standby after a failover went wrong, or default_transaction_read_only
// during an operator's maintenance) the API keeps serving reads, authenticates without
// writing (no session slide, no token last-used), and refuses writes at once with a 503
// that says why, instead of retrying each for dbRetryDeadlineMs.
import type { Queryable } from '../db/queryable.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../log.js';

const FRESH_MS = 1000;

export class DatabaseWritability {
  private checkedAt = -Infinity;
  private readOnlyNow = false;
  private pending: Promise<boolean> | null = null;

  constructor(private readonly db: Queryable, private readonly log: Logger) {}

  /** True when the last check (at most a second ago) found the database read-only; a failed check counts as writable, leaving the error to the request itself. */
  readOnly(): Promise<boolean> {
    if (performance.now() - this.checkedAt < FRESH_MS) return Promise.resolve(this.readOnlyNow);
    this.pending ??= this.check().finally(() => { this.pending = null; });
    return this.pending;
  }

  private async check(): Promise<boolean> {
    try {
      const now = (await this.db.query<{ read_only: boolean }>(sql('api/database_read_only'))).rows[0]?.read_only ?? false;
      if (now !== this.readOnlyNow) this.log.warn({ readOnly: now }, now ? 'the database is read-only: the API refuses writes' : 'the database takes writes again');
      this.readOnlyNow = now;
    } catch (err) {
      this.log.debug({ err }, 'could not check whether the database is read-only; requests go on and meet the error themselves');
      this.readOnlyNow = false;
    }
    this.checkedAt = performance.now();
    return this.readOnlyNow;
  }
}
