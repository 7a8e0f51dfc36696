// The Database: the one owner of a process's way to PostgreSQL.
//
// Context. The connection and failover path was spread over module-level registries that
// free functions looked up: host choosers and availability signals keyed by URL, the
// transaction's BEGIN and retry deadline and the read router keyed by pool. Two handles
// on one URL shared state that neither owned, and what a role talked to was not visible in
// what it was given. graphile-worker, our anchor, passes one compiled options object and
// its `withPgClient` explicitly instead of looking state up by key.
//
// Decision. A Database object owns the whole path, one owner per mechanism:
// - the primary pool (`query`, `inTransaction`), and when a read replica is configured its
//   pool with the ReadRouter that picks between them (`reads.query`, src/db/read-router.ts);
// - one Endpoint per URL it uses (url, sessionUrl, the replica's): the HostChooser of a
//   multi-host URL (src/db/connect.ts) and the Availability of the database behind it,
//   with the probe that finds its return (src/db/availability.ts, decision 0007);
// - the transaction: BEGIN with the SET LOCAL limits, the retry deadline, the retry on
//   transient errors (src/db/transient.ts, src/db/retry.ts) and forgetting a failed host;
// - the session and LISTEN connections (`newClient`), so ComponentSession and Listener get
//   their connections and availability from the Database they are given.
// Every role, API route and CLI command receives its Database explicitly; nothing is looked
// up by URL or by pool. The pure parts stay pure functions, tested without a server:
// multi-host URL parsing and the acceptable-server rule (multi-host.ts), error
// classification and backoff (transient.ts), the read route (core/replica-route.ts).
//
// Consequences. A process has one Database (src/runtime/database.ts opens it); a test that
// needs a handle on a test URL builds one with `new Database(url, { size, applicationName })`.
// Two Databases on the same URL share nothing: each chooses its host and watches its
// availability on its own, so a test that must see a pool move with a session's split-brain
// check gives both the same Database.
import pg, { type QueryResult, type QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import { Endpoint, type HostChooser } from './connect.js';
import type { Availability } from './availability.js';
import type { EmbeddedServer } from './embedded.js';
import { ReadRouter } from './read-router.js';
import { CommitOutcomeUnknownError, retryTransient, type RetryOptions } from './retry.js';
import { isTransientDbError } from './transient.js';
import { redact } from './multi-host.js';
import { sql } from './sql.js';

/** A connection inside inTransaction: the transaction's statements go through it. */
export type Tx = pg.PoolClient;

/** The rows of a statement whose caller names no row type: pg's own default (any). */
import type { Queryable } from './queryable.js';

export type { Queryable };

type DefaultRow = QueryResult['rows'][number];

// bigint ids as strings (they can exceed 2^53); timestamps stay Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/** Retry deadline of a transaction when the Database was given none. */
const DEFAULT_RETRY_DEADLINE_MS = 30000;

/** A probe for a lost database gives up on one connection after this long (at most connectTimeoutMs). */
const PROBE_TIMEOUT_MS = 1000;

export interface DatabaseOptions {
  /** Connections of the primary pool. */
  size: number;
  applicationName: string;
  /** For what needs a real session (component session, LISTEN): sessionDatabaseUrl. Default: the Database's url. */
  sessionUrl?: string;
  /** The read replica of heavy API reads (readDatabaseUrl), used while its lag is under maxLagMs. */
  replica?: { url: string; size: number; applicationName: string; maxLagMs: number };
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
  /** inTransaction and withRetry retry transient errors for this long. Default 30000. */
  retryDeadlineMs?: number;
  /** The embedded server this Database runs on, if it started one: close() stops it. */
  embedded?: EmbeddedServer;
}

export class Database implements Queryable {
  readonly sessionUrl: string;
  /** Heavy API reads: the replica while its lag allows, else the primary. */
  readonly reads: ReadRouter;
  readonly embedded: EmbeddedServer | null;
  private readonly main: Endpoint;
  private readonly session: Endpoint;
  private readonly replica: Endpoint | null;
  private readonly pool: pg.Pool;
  private readonly replicaPool: pg.Pool | null;
  /**
   * The BEGIN of each transaction, with server-side limits set per transaction (SET LOCAL,
   * so it also works through PgBouncer's transaction pooling): a process frozen or cut off
   * in the middle of a transaction loses it, and its row locks, after the idle limit
   * instead of blocking its peers for as long as it is gone.
   */
  private readonly begin: string;
  private readonly retryDeadlineMs: number;
  private readonly connectTimeoutMs: number;
  private readonly stopProbes: (() => void)[];
  private closing: Promise<void> | null = null;

  constructor(readonly url: string, private readonly options: DatabaseOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.sessionUrl = options.sessionUrl ?? url;
    this.main = new Endpoint(url, this.connectTimeoutMs);
    this.session = this.sessionUrl === url ? this.main : new Endpoint(this.sessionUrl, this.connectTimeoutMs);
    const replica = options.replica;
    this.replica = replica ? new Endpoint(replica.url, this.connectTimeoutMs) : null;
    this.pool = this.newPool(this.main, options.size, options.applicationName);
    this.replicaPool = replica && this.replica ? this.newPool(this.replica, replica.size, replica.applicationName) : null;
    this.reads = new ReadRouter(this.pool, this.replicaPool, { maxLagMs: replica?.maxLagMs ?? 0, log: options.log });
    this.embedded = options.embedded ?? null;
    const limits = [
      options.transactionIdleTimeoutMs ? `SET LOCAL idle_in_transaction_session_timeout = ${Math.round(options.transactionIdleTimeoutMs)}` : null,
      (options.statementTimeoutMs ?? options.queryTimeoutMs) ? `SET LOCAL statement_timeout = ${Math.round((options.statementTimeoutMs ?? options.queryTimeoutMs)!)}` : null,
    ].filter(Boolean);
    this.begin = ['BEGIN', ...limits].join('; ');
    this.retryDeadlineMs = options.retryDeadlineMs ?? DEFAULT_RETRY_DEADLINE_MS;
    // When the database is lost, a probe finds its return for every waiting retry and loop.
    const probeTimeoutMs = Math.min(this.connectTimeoutMs, PROBE_TIMEOUT_MS);
    this.stopProbes = this.watched().map((e) => e.availability.probeWith(() => e.probeWritable(probeTimeoutMs), options.log));
  }

  /**
   * A Database whose primary answered (retried with backoff for connectRetryMs) and whose
   * read router has checked the replica once. On failure it is closed again.
   */
  static async open(url: string, options: DatabaseOptions & { connectRetryMs: number }): Promise<Database> {
    const database = new Database(url, options);
    try {
      await database.withRetry(() => database.query(sql('db/ping')), { maxElapsedMs: options.connectRetryMs, log: options.log, what: `connecting to ${redact(url)}` });
    } catch (err) {
      await database.close();
      throw err;
    }
    // The replica is optional: unreachable at start, heavy reads simply go to the primary.
    await database.reads.start();
    return database;
  }

  private newPool(endpoint: Endpoint, size: number, applicationName: string): pg.Pool {
    const o = this.options;
    const pool = new pg.Pool({
      // A multi-host URL: node-postgres gets one host, the chooser's Client class picks the live one.
      connectionString: endpoint.connectionString(),
      Client: endpoint.Client,
      max: size,
      application_name: applicationName,
      connectionTimeoutMillis: this.connectTimeoutMs,
      ...(o.queryTimeoutMs ? { query_timeout: o.queryTimeoutMs } : {}),
      idleTimeoutMillis: 30000,
      keepAlive: true,
      keepAliveInitialDelayMillis: o.keepAliveIdleMs ?? 10000,
    });
    // A dropped idle connection must not crash the process; the next query reconnects.
    pool.on('error', (err) => o.log?.warn({ err }, 'idle database connection lost'));
    return pool;
  }

  /** The endpoints whose loss this process waits on: the pools' and the session's (not the replica's: reads fall back). */
  private watched(): Endpoint[] {
    return [...new Set([this.main, this.session])];
  }

  /** One statement on the primary pool, autocommitted, not retried. */
  query<R extends QueryResultRow = DefaultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  /** Runs fn, retrying it with backoff while it fails with a transient database error (default deadline: retryDeadlineMs). */
  withRetry<T>(fn: () => Promise<T>, opts: Omit<RetryOptions, 'idempotent'> = {}): Promise<T> {
    return retryTransient(fn, { ...opts, maxElapsedMs: opts.maxElapsedMs ?? this.retryDeadlineMs, availability: this.main.availability });
  }

  /**
   * One transaction on one connection; the whole function is the unit of retry. When COMMIT
   * itself fails on a lost connection the outcome is unknown and the function runs again:
   * it must be idempotent (see docs/decisions/0005-retried-transactions-are-idempotent.md).
   */
  inTransaction<T>(fn: (tx: Tx) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    return this.withRetry(async () => {
      const client = await this.pool.connect();
      let broken = false;
      let released = false;
      // A connection cut while checked out (server shutdown, admin kill, idle-in-transaction
      // limit) emits 'error' on the client; unhandled, it would end the process. The next
      // query on it fails and is retried as a transient error.
      const onError = () => { broken = true; };
      client.on('error', onError);
      let committing = false;
      try {
        await client.query(this.begin);
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
        if (broken) this.main.forgetHostOf(client);
        await client.query('ROLLBACK').catch(() => { broken = true; });
        throw err;
      } finally {
        if (!released) {
          client.off('error', onError);
          client.release(broken);
        }
      }
    }, opts);
  }

  /**
   * A new, unconnected client. 'session': through sessionUrl, for what needs a real session
   * (the component session, LISTEN); 'route': through url, the way the pools go (the
   * split-brain check compares the two).
   */
  newClient(via: 'session' | 'route', config: Omit<pg.ClientConfig, 'connectionString'>): pg.Client {
    return (via === 'session' ? this.session : this.main).newClient(config);
  }

  /** Probes every host of a multi-host url afresh (its primary may have moved since the pools chose); connections to the old host retire. */
  async refreshRoute(): Promise<void> {
    if (this.main.chooser.parsed.hosts.length > 1) await this.main.chooser.refresh().catch((err) => this.options.log?.debug({ err }, 'no host of the database url qualifies now; the next connection through it probes again and reports why'));
  }

  /** Whether this process has lost the database its pools use. */
  get availability(): Availability {
    return this.main.availability;
  }

  /** Whether this process has lost the database its session and LISTEN connections use (the pools' when sessionUrl is url). */
  get sessionAvailability(): Availability {
    return this.session.availability;
  }

  /** Every availability a loop of this process waits on: the pools' and the session's. */
  get availabilities(): Availability[] {
    return this.watched().map((e) => e.availability);
  }

  /** The host chooser of each URL this Database uses, with its current host (for status and metrics). */
  hostChoosers(): HostChooser[] {
    return [...new Set([this.main, this.session, ...(this.replica ? [this.replica] : [])])].map((e) => e.chooser);
  }

  /** Connections of the primary pool. */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /** Stops the probes and the read router, ends the pools, and stops the embedded server it runs on. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const stop of this.stopProbes) stop();
      this.reads.stop();
      await this.replicaPool?.end();
      await this.pool.end();
      await this.embedded?.stop();
    })();
    return this.closing;
  }
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
