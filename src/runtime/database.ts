// Getting a database for a Keel process: the configured URL or the embedded server,
// reached with retry and backoff; an unreachable database ends in a clear error.
import type { KeelOptions } from '../config/options.js';
import { availabilityOfPool, createPool, withRetry, type Db, type PoolOptions } from '../db/pool.js';
import { sql } from '../db/sql.js';
import { parseDatabaseUrl } from '../db/multi-host.js';
import { availabilityOf, type Availability } from '../db/availability.js';
import { probeWritable } from '../db/connect.js';
import { ReadRouter, setReadRouter } from '../db/read-router.js';
import { startEmbedded, type EmbeddedServer } from '../db/embedded.js';
import { DatabaseUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';

export interface Database {
  url: string;
  /** For what needs a real session (component session, LISTEN): sessionDatabaseUrl, else url. */
  sessionUrl: string;
  db: Db;
  /** Whether this process has lost the database, per URL it uses (url and sessionUrl). */
  availabilities: Availability[];
  /** Heavy API reads: the replica while its lag allows, else the primary (db). */
  reads: ReadRouter;
  embedded: EmbeddedServer | null;
  close(): Promise<void>;
}

/** A probe for a lost database gives up on one connection after this long (at most dbConnectTimeoutMs). */
const PROBE_TIMEOUT_MS = 1000;

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export async function openDatabase(options: KeelOptions, log: Logger, role: string): Promise<Database> {
  let url = options.databaseUrl;
  let embedded: EmbeddedServer | null = null;
  if (!url) {
    embedded = await startEmbedded({ dataDir: options.dataDir, port: options.embeddedPort, log });
    url = embedded.url;
  }
  // Bad URLs fail here, naming the option, before anything connects.
  parseDatabaseUrl(url, 'KEEL_DATABASE_URL (databaseUrl)');
  if (options.sessionDatabaseUrl) parseDatabaseUrl(options.sessionDatabaseUrl, 'KEEL_SESSION_DATABASE_URL (sessionDatabaseUrl)');
  if (options.readDatabaseUrl) parseDatabaseUrl(options.readDatabaseUrl, 'KEEL_READ_DATABASE_URL (readDatabaseUrl)');
  const poolOptions: Omit<PoolOptions, 'size' | 'applicationName'> = {
    log, queryTimeoutMs: options.dbQueryTimeoutMs, transactionIdleTimeoutMs: options.dbTransactionIdleTimeoutMs,
    connectTimeoutMs: options.dbConnectTimeoutMs, keepAliveIdleMs: options.dbKeepaliveIdleMs, retryDeadlineMs: options.dbRetryDeadlineMs,
    ...(options.dbStatementTimeoutMs ? { statementTimeoutMs: options.dbStatementTimeoutMs } : {}),
  };
  const db = createPool(url, { ...poolOptions, size: options.dbPoolSize, applicationName: `keel-${role}` });
  try {
    await withRetry(() => db.query(sql('db/ping')), { maxElapsedMs: options.dbConnectRetrySec * 1000, log, what: `connecting to ${redactUrl(url)}`, availability: availabilityOfPool(db) });
  } catch (err) {
    await db.end().catch(() => {});
    await embedded?.stop();
    throw new DatabaseUnavailableError(`cannot reach the database at ${redactUrl(url)} after ${options.dbConnectRetrySec}s (dbConnectRetrySec): ${(err as Error).message}; check KEEL_DATABASE_URL and that the server is running`);
  }
  // The replica is optional: unreachable at start, heavy reads simply go to the primary.
  const replica = options.readDatabaseUrl
    ? createPool(options.readDatabaseUrl, { ...poolOptions, size: options.dbReadPoolSize, applicationName: `keel-${role}-reads`, retryDeadlineMs: 0 })
    : null;
  const reads = new ReadRouter(db, replica, { maxLagMs: options.replicaMaxLagMs, log });
  await reads.start();
  setReadRouter(db, reads);
  const sessionUrl = options.sessionDatabaseUrl ?? url;
  // When the database is lost, a probe finds its return for every waiting retry and loop.
  const probeTimeoutMs = Math.min(options.dbConnectTimeoutMs, PROBE_TIMEOUT_MS);
  const urls = [...new Set([url, sessionUrl])];
  const stopProbes = urls.map((u) => availabilityOf(u).probeWith(() => probeWritable(u, probeTimeoutMs)));
  return {
    url, sessionUrl, availabilities: urls.map(availabilityOf), db, reads, embedded,
    close: async () => {
      for (const stop of stopProbes) stop();
      reads.stop();
      await replica?.end().catch(() => {});
      await db.end().catch(() => {});
      await embedded?.stop();
    },
  };
}
