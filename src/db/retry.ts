// The retry loop of a database call: backoff with jitter while it fails with a transient
// error, until a deadline, woken early when the database is reached again. No database of
// its own: Database.withRetry and Database.inTransaction (src/db/database.ts) give it theirs,
// and test/unit/db-availability.test.ts drives it with a bare Availability.
import type { Logger } from 'pino';
import { backoffMs, isTransientDbError, isUnreachableDbError } from './transient.js';
import { retryPause, type Availability } from './availability.js';

export interface RetryOptions {
  /** Give up after this many milliseconds of trying (default: the Database's retry deadline, dbRetryDeadlineMs). */
  maxElapsedMs?: number;
  log?: Logger;
  what?: string;
  signal?: AbortSignal;
  /**
   * inTransaction only. false: the transaction could apply twice if run again after its
   * COMMIT was sent and the answer lost, so that case is not retried: it fails with
   * CommitOutcomeUnknownError (errors before COMMIT are still retried). Default true.
   */
  idempotent?: boolean;
}

/** COMMIT was sent but its answer was lost with the connection: the transaction may or may not have applied. */
export class CommitOutcomeUnknownError extends Error {
  override name = 'CommitOutcomeUnknownError';
  constructor(what: string, cause: Error) {
    super(`the database connection was lost while committing ${what}: it may or may not have been applied (${cause.message}); check before trying again`);
  }
}

/** While a call keeps failing, a reminder this often once the backoff stopped growing. */
const STILL_FAILING_LOG_MS = 5000;

/**
 * Runs fn, retrying it with backoff while it fails with a transient database error. A
 * failure that says the database is unreachable marks `availability` lost, a success
 * marks it reached, and a backoff ends early when another call reaches it.
 */
export async function retryTransient<T>(fn: () => Promise<T>, opts: Omit<RetryOptions, 'idempotent'> & { maxElapsedMs: number; availability: Availability }): Promise<T> {
  const started = Date.now();
  const { availability } = opts;
  const pause = retryPause(availability);
  // One log line per backoff step: the first failure with its error, then one when the
  // wait grows and, once it is at its cap, one every few seconds (an outage of 30 s is a
  // dozen lines, not a hundred).
  let lastCeiling = 0;
  let lastLogAt = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await fn();
      availability.reached();
      return result;
    } catch (err) {
      if (isUnreachableDbError(err)) availability.lost();
      if (err instanceof CommitOutcomeUnknownError || !isTransientDbError(err) || Date.now() - started > opts.maxElapsedMs || opts.signal?.aborted) throw err;
      const wait = backoffMs(attempt);
      const ceiling = backoffMs(attempt, undefined, undefined, () => 1);
      const what = opts.what ?? 'database call';
      const logNow = attempt === 0 || ceiling > lastCeiling || Date.now() - lastLogAt >= STILL_FAILING_LOG_MS;
      if (logNow && attempt === 0) opts.log?.warn({ err, failures: 1, waitMs: wait }, `${what} failed; retrying`);
      else if (logNow) {
        const code = (err as { code?: unknown }).code;
        opts.log?.warn({ code, failures: attempt + 1, waitMs: wait, elapsedSec: Math.round((Date.now() - started) / 1000) },
          `${what} still failing${typeof code === 'string' ? ` (${code})` : ''}; retrying in up to ${ceiling} ms`);
      }
      if (logNow) {
        lastCeiling = ceiling;
        lastLogAt = Date.now();
      }
      await pause(wait);
    }
  }
}
