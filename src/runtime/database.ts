// Getting a database for a Keel process: the configured URL or the embedded server,
// reached with retry and backoff; an unreachable database ends in a clear error.
import type { KeelOptions } from '../config/options.js';
import { createPool, withRetry, type Db } from '../db/pool.js';
import { startEmbedded, type EmbeddedServer } from '../db/embedded.js';
import { DatabaseUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';

export interface Database {
  url: string;
  db: Db;
  embedded: EmbeddedServer | null;
  close(): Promise<void>;
}

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
  const db = createPool(url, {
    size: options.dbPoolSize, applicationName: `keel-${role}`, log,
    queryTimeoutMs: options.dbQueryTimeoutMs, transactionIdleTimeoutMs: options.dbTransactionIdleTimeoutMs,
  });
  try {
    await withRetry(() => db.query('SELECT 1'), { maxElapsedMs: options.dbConnectRetrySec * 1000, log, what: `connecting to ${redactUrl(url)}` });
  } catch (err) {
    await db.end().catch(() => {});
    await embedded?.stop();
    throw new DatabaseUnavailableError(`cannot reach the database at ${redactUrl(url)} after ${options.dbConnectRetrySec}s (dbConnectRetrySec): ${(err as Error).message}; check KEEL_DATABASE_URL and that the server is running`);
  }
  return {
    url, db, embedded,
    close: async () => {
      await db.end().catch(() => {});
      await embedded?.stop();
    },
  };
}
