// Getting the database of a Keel process: the configured URL or the embedded server,
// reached with retry and backoff; an unreachable database ends in a clear error.
import type { KeelOptions } from '../config/options.js';
import { Database } from '../db/database.js';
import { redactUrl } from '../config/redact-url.js';
import { parseDatabaseUrl } from '../db/multi-host.js';
import { startEmbedded, type EmbeddedServer } from '../db/embedded.js';
import { DatabaseUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';

/** What a process may do to the embedded server's data folder (no URL configured). */
export interface EmbeddedUse {
  /** Run initdb when the folder holds no database: only `keel standalone` and `keel db init` do (docs/cli.md). */
  create?: boolean;
  /** Adopt a server left running by a Keel process that is gone (long-running roles), instead of only using it. */
  adoptOrphan?: boolean;
}

/** SQLSTATEs of a refused login: the server was reached, the credentials are wrong. */
const LOGIN_REFUSED = new Set(['28P01', '28000']);

export async function openDatabase(options: KeelOptions, log: Logger, role: string, use: EmbeddedUse = {}): Promise<Database> {
  let url = options.databaseUrl;
  let embedded: EmbeddedServer | null = null;
  if (!url) {
    embedded = await startEmbedded({ dataDir: options.dataDir, port: options.embeddedPort, log, create: use.create ?? false, adoptOrphan: use.adoptOrphan ?? false });
    url = embedded.url;
  }
  // Bad URLs fail here, naming the option, before anything connects.
  parseDatabaseUrl(url, 'KEEL_DATABASE_URL (databaseUrl)');
  if (options.sessionDatabaseUrl) parseDatabaseUrl(options.sessionDatabaseUrl, 'KEEL_SESSION_DATABASE_URL (sessionDatabaseUrl)');
  if (options.readDatabaseUrl) parseDatabaseUrl(options.readDatabaseUrl, 'KEEL_READ_DATABASE_URL (readDatabaseUrl)');
  try {
    return await Database.open(url, {
      size: options.dbPoolSize, applicationName: `keel-${role}`, log, connectRetryMs: options.dbConnectRetrySec * 1000,
      queryTimeoutMs: options.dbQueryTimeoutMs, transactionIdleTimeoutMs: options.dbTransactionIdleTimeoutMs,
      connectTimeoutMs: options.dbConnectTimeoutMs, keepAliveIdleMs: options.dbKeepaliveIdleMs, retryDeadlineMs: options.dbRetryDeadlineMs,
      ...(options.dbStatementTimeoutMs ? { statementTimeoutMs: options.dbStatementTimeoutMs } : {}),
      ...(options.sessionDatabaseUrl ? { sessionUrl: options.sessionDatabaseUrl } : {}),
      ...(options.readDatabaseUrl ? { replica: { url: options.readDatabaseUrl, size: options.dbReadPoolSize, applicationName: `keel-${role}-reads`, maxLagMs: options.replicaMaxLagMs } } : {}),
      ...(embedded ? { embedded } : {}),
    });
  } catch (err) {
    if (LOGIN_REFUSED.has((err as { code?: string }).code ?? '')) {
      throw new DatabaseUnavailableError(`the database at ${redactUrl(url)} refused the login: ${(err as Error).message}; ${embedded ? `the embedded server's password is in ${options.dataDir}/postgres-password` : 'check the user name and password in KEEL_DATABASE_URL'}`);
    }
    throw new DatabaseUnavailableError(`cannot reach the database at ${redactUrl(url)} after ${options.dbConnectRetrySec}s (dbConnectRetrySec): ${(err as Error).message}; check KEEL_DATABASE_URL and that the server is running`);
  }
}
