// PostgreSQL connection pool and the two ways Keel talks through it: a transaction that is
// retried as a whole on transient errors, and a LISTEN connection that reconnects.
import pg from 'pg';
import type { Logger } from 'pino';
import { backoffMs, isTransientDbError } from './transient.js';

export type Db = pg.Pool;
export type Tx = pg.PoolClient;

// bigint ids as strings (they can exceed 2^53); timestamps stay Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/**
 * The BEGIN of each pool's transactions, with server-side limits set per transaction (SET
 * LOCAL, so it also works through PgBouncer's transaction pooling): a process frozen or
 * cut off in the middle of a transaction loses it, and its row locks, after the idle limit
 * instead of blocking its peers for as long as it is gone.
 */
const transactionBegin = new WeakMap<Db, string>();

export interface PoolOptions {
  size: number;
  applicationName: string;
  log?: Logger;
  /** Client-side and server-side limit of one statement. */
  queryTimeoutMs?: number;
  /** Server ends a transaction that stays idle this long (idle_in_transaction_session_timeout). */
  transactionIdleTimeoutMs?: number;
}

export function createPool(url: string, options: PoolOptions): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.size,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5000,
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    idleTimeoutMillis: 30000,
    keepAlive: true,
  });
  // A dropped idle connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => options.log?.warn({ err: err.message }, 'idle database connection lost'));
  const limits = [
    options.transactionIdleTimeoutMs ? `SET LOCAL idle_in_transaction_session_timeout = ${Math.round(options.transactionIdleTimeoutMs)}` : null,
    options.queryTimeoutMs ? `SET LOCAL statement_timeout = ${Math.round(options.queryTimeoutMs)}` : null,
  ].filter(Boolean);
  transactionBegin.set(pool, ['BEGIN', ...limits].join('; '));
  return pool;
}

export interface RetryOptions {
  /** Give up after this many milliseconds of trying. */
  maxElapsedMs?: number;
  log?: Logger;
  what?: string;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs fn, retrying it with backoff while it fails with a transient database error. */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const started = Date.now();
  const maxElapsed = opts.maxElapsedMs ?? 30000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientDbError(err) || Date.now() - started > maxElapsed || opts.signal?.aborted) throw err;
      const wait = backoffMs(attempt);
      opts.log?.warn({ err: (err as Error).message, code: (err as { code?: string }).code, attempt, waitMs: wait }, `${opts.what ?? 'database call'} failed; retrying`);
      await sleep(wait);
    }
  }
}

/** One transaction on one connection; the whole function is the unit of retry. */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  return withRetry(async () => {
    const client = await db.connect();
    let broken = false;
    // A connection cut while checked out (server shutdown, admin kill, idle-in-transaction
    // limit) emits 'error' on the client; unhandled, it would end the process. The next
    // query on it fails and is retried as a transient error.
    const onError = () => { broken = true; };
    client.on('error', onError);
    try {
      await client.query(transactionBegin.get(db) ?? 'BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = isTransientDbError(err);
      await client.query('ROLLBACK').catch(() => { broken = true; });
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }, opts);
}
