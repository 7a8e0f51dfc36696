// PostgreSQL connection pool and the two ways Keel talks through it: a transaction that is
// retried as a whole on transient errors, and a LISTEN connection that reconnects.
import pg from 'pg';
import type { Logger } from 'pino';
import { backoffMs, isTransientDbError, isUnreachableDbError } from './transient.js';
import { availabilityOf, retryPause, type Availability } from './availability.js';
import { clientClassFor, connectionStringFor, forgetHostOf } from './connect.js';

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
interface PoolMeta {
  begin: string;
  url: string;
  retryDeadlineMs: number;
}
const poolMeta = new WeakMap<Db, PoolMeta>();

/** Default retry deadline of a transaction when the pool was given none. */
export const DEFAULT_RETRY_DEADLINE_MS = 30000;

export interface PoolOptions {
  size: number;
  applicationName: string;
  log?: Logger;
  /** Client-side limit of one statement (and the server-side one unless statementTimeoutMs is set). */
  queryTimeoutMs?: number;
  /** Server-side limit of one statement (statement_timeout, SET LOCAL in each transaction). */
  statementTimeoutMs?: number;
  /** Server ends a transaction that stays idle this long (idle_in_transaction_session_timeout). */
  transactionIdleTimeoutMs?: number;
  /** Limit to open one connection (TCP, TLS, authentication). Default 5000. */
  connectTimeoutMs?: number;
  /** TCP keepalive: first probe after the connection was idle this long. Default 10000. */
  keepAliveIdleMs?: number;
  /** inTransaction retries transient errors for this long. Default 30000. */
  retryDeadlineMs?: number;
}

export function createPool(url: string, options: PoolOptions): Db {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    // A multi-host URL: node-postgres gets one host, the chooser's Client class picks the live one.
    connectionString: connectionStringFor(url),
    Client: clientClassFor(url, connectTimeoutMs),
    max: options.size,
    application_name: options.applicationName,
    connectionTimeoutMillis: connectTimeoutMs,
    ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    idleTimeoutMillis: 30000,
    keepAlive: true,
    keepAliveInitialDelayMillis: options.keepAliveIdleMs ?? 10000,
  });
  // A dropped idle connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => options.log?.warn({ err: err.message }, 'idle database connection lost'));
  const limits = [
    options.transactionIdleTimeoutMs ? `SET LOCAL idle_in_transaction_session_timeout = ${Math.round(options.transactionIdleTimeoutMs)}` : null,
    (options.statementTimeoutMs ?? options.queryTimeoutMs) ? `SET LOCAL statement_timeout = ${Math.round((options.statementTimeoutMs ?? options.queryTimeoutMs)!)}` : null,
  ].filter(Boolean);
  poolMeta.set(pool, { begin: ['BEGIN', ...limits].join('; '), url, retryDeadlineMs: options.retryDeadlineMs ?? DEFAULT_RETRY_DEADLINE_MS });
  return pool;
}

export interface RetryOptions {
  /** Give up after this many milliseconds of trying (default: the pool's retry deadline, else 30 s). */
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
  /**
   * The database fn talks to: a backoff after losing it ends as soon as any call of this
   * process reaches it again (inTransaction sets it from its pool).
   */
  availability?: Availability;
}

/** COMMIT was sent but its answer was lost with the connection: the transaction may or may not have applied. */
export class CommitOutcomeUnknownError extends Error {
  override name = 'CommitOutcomeUnknownError';
  constructor(what: string, cause: Error) {
    super(`the database connection was lost while committing ${what}: it may or may not have been applied (${cause.message}); check before trying again`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs fn, retrying it with backoff while it fails with a transient database error. */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const started = Date.now();
  const maxElapsed = opts.maxElapsedMs ?? DEFAULT_RETRY_DEADLINE_MS;
  const availability = opts.availability;
  const pause = availability ? retryPause(availability) : sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await fn();
      availability?.reached();
      return result;
    } catch (err) {
      if (availability && isUnreachableDbError(err)) availability.lost();
      if (err instanceof CommitOutcomeUnknownError || !isTransientDbError(err) || Date.now() - started > maxElapsed || opts.signal?.aborted) throw err;
      const wait = backoffMs(attempt);
      opts.log?.warn({ err: (err as Error).message, code: (err as { code?: string }).code, attempt, waitMs: wait }, `${opts.what ?? 'database call'} failed; retrying`);
      await pause(wait);
    }
  }
}

/** The availability of the database a pool talks to (see availability.ts). */
export function availabilityOfPool(db: Db): Availability | undefined {
  const meta = poolMeta.get(db);
  return meta ? availabilityOf(meta.url) : undefined;
}

/** The retry deadline a pool was created with. */
export function retryDeadlineOf(db: Db): number {
  return poolMeta.get(db)?.retryDeadlineMs ?? DEFAULT_RETRY_DEADLINE_MS;
}

/**
 * One transaction on one connection; the whole function is the unit of retry. When COMMIT
 * itself fails on a lost connection the outcome is unknown and the function runs again:
 * it must be idempotent (see docs/decisions/0005-retried-transactions-are-idempotent.md).
 */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const meta = poolMeta.get(db);
  return withRetry(async () => {
    const client = await db.connect();
    let broken = false;
    let released = false;
    // A connection cut while checked out (server shutdown, admin kill, idle-in-transaction
    // limit) emits 'error' on the client; unhandled, it would end the process. The next
    // query on it fails and is retried as a transient error.
    const onError = () => { broken = true; };
    client.on('error', onError);
    let committing = false;
    try {
      await client.query(meta?.begin ?? 'BEGIN');
      const result = await fn(client);
      committing = true;
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (committing && opts.idempotent === false && isTransientDbError(err)) {
        client.off('error', onError);
        client.release(true);
        released = true;
        throw new CommitOutcomeUnknownError(opts.what ?? 'the transaction', err as Error);
      }
      broken = isTransientDbError(err);
      // A lost connection or a read-only server: the next connection looks for the primary again.
      if (broken && meta) forgetHostOf(meta.url, client);
      await client.query('ROLLBACK').catch(() => { broken = true; });
      throw err;
    } finally {
      if (!released) {
        client.off('error', onError);
        client.release(broken);
      }
    }
  }, { ...opts, maxElapsedMs: opts.maxElapsedMs ?? meta?.retryDeadlineMs, availability: opts.availability ?? availabilityOfPool(db) });
}

/**
 * Runs fn behind a savepoint of tx. When fn fails with an error `recoverable` accepts, the
 * transaction rolls back to the savepoint and goes on without fn's work (null); any other
 * error fails the whole transaction.
 */
export async function underSavepoint<T>(tx: Tx, fn: () => Promise<T>, recoverable: (err: unknown) => boolean): Promise<{ value: T } | null> {
  await tx.query('SAVEPOINT keel_step');
  try {
    return { value: await fn() };
  } catch (err) {
    if (!recoverable(err)) throw err;
    await tx.query('ROLLBACK TO SAVEPOINT keel_step');
    return null;
  }
}
