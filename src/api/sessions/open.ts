// The session store an API copy uses, from its options.
import type { KeelOptions } from '../../config/options.js';
import type { Database } from '../../db/database.js';
import { UsageError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { postgresSessionStore } from './postgres.js';
import { redisSessionStore } from './redis.js';
import type { SessionStore } from './store.js';

export type SessionStoreOptions = Pick<KeelOptions, 'apiSessionStore' | 'redisUrl' | 'dbConnectRetrySec'>;

export async function openSessionStore(db: Database, options: SessionStoreOptions, log: Logger): Promise<SessionStore> {
  if (options.apiSessionStore === 'postgres') {
    if (options.redisUrl) log.warn('redisUrl is set but apiSessionStore is postgres: browser sessions stay in PostgreSQL (set KEEL_API_SESSION_STORE=redis to use Redis)');
    return postgresSessionStore(db);
  }
  if (!options.redisUrl) throw new UsageError('apiSessionStore is redis but redisUrl is unset: set KEEL_REDIS_URL (redisUrl) to redis://host:port, or KEEL_API_SESSION_STORE=postgres');
  return redisSessionStore(db, { url: options.redisUrl, connectRetrySec: options.dbConnectRetrySec }, log);
}
