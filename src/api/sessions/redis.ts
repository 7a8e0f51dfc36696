// Sessions in Redis (`apiSessionStore=redis`): one hash per session whose key TTL is the
// session timeout, so Redis itself forgets idle and expired sessions. The user behind a
// session is still read from PostgreSQL, so a changed role, a disabled or deleted user and
// ended sessions (the user's session epoch) count at once. At start the store connects
// within `dbConnectRetrySec` or fails with an error naming `redisUrl`; later outages answer 503 (commands fail fast instead of queueing)
// while the client reconnects with backoff.
import { createClient } from '@redis/client';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../log.js';
import { redactUrl } from '../../config/redact-url.js';
import { HttpError } from '../errors.js';
import { sql } from '../../db/sql.js';
import type { User } from '../../auth/users.js';
import { REDIS_SESSION_CREATE, REDIS_SESSION_TOUCH } from './redis-scripts.js';
import type { SessionStore } from './store.js';

const KEY_PREFIX = 'keel:session:';
const COMMAND_TIMEOUT_MS = 2000;
const MAX_BACKOFF_MS = 2000;

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export interface RedisStoreOptions {
  url: string;
  /** How long the first connection is retried before start fails. */
  connectRetrySec: number;
}

export async function redisSessionStore(db: Database, opts: RedisStoreOptions, log: Logger): Promise<SessionStore> {
  const where = redactUrl(opts.url);
  const started = Date.now();
  let ready = false;
  let lastError = '';
  const client = createClient({
    url: opts.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: Math.max(500, Math.min(5000, opts.connectRetrySec * 1000)),
      reconnectStrategy: (retries, cause) => {
        if (!ready && Date.now() - started >= opts.connectRetrySec * 1000) {
          return new RedisUnavailableError(`redisUrl: Redis at ${where} (the session store, apiSessionStore=redis) is unreachable after ${opts.connectRetrySec} s: ${cause.message}. Start Redis, fix KEEL_REDIS_URL, or set KEEL_API_SESSION_STORE=postgres`);
        }
        return Math.min(100 * 2 ** retries, MAX_BACKOFF_MS);
      },
    },
  });
  client.on('error', (err: Error) => {
    if (ready && err.message !== lastError) log.warn({ err, redis: where }, 'session store (Redis) unreachable; reconnecting');
    lastError = err.message;
  });
  client.on('ready', () => {
    if (ready && lastError) log.info({ redis: where }, 'session store (Redis) reachable again');
    ready = true;
    lastError = '';
  });
  try {
    await client.connect();
  } catch (err) {
    client.destroy();
    if (err instanceof RedisUnavailableError) throw err;
    throw new RedisUnavailableError(`redisUrl: cannot use Redis at ${where} as the session store: ${(err as Error).message}. Fix KEEL_REDIS_URL, or set KEEL_API_SESSION_STORE=postgres`);
  }
  log.info({ redis: where }, 'browser sessions in Redis');

  /** A failing Redis makes session requests answer 503 rather than 500 or "logged out". */
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new HttpError(503, `the session store (Redis at ${where}) is unreachable: ${(err as Error).message}; try again shortly, or use an API token`);
    }
  };
  const key = (idHash: string) => KEY_PREFIX + idHash;
  return {
    kind: 'redis',
    async create(idHash, userId, csrfToken, maxSec, idleSec, userEpoch) {
      await call(() => client.eval(REDIS_SESSION_CREATE, { keys: [key(idHash)], arguments: [userId, csrfToken, String(maxSec * 1000), String(idleSec * 1000), String(userEpoch)] }));
    },
    async touch(idHash, idleSec) {
      const found = await call(() => client.eval(REDIS_SESSION_TOUCH, { keys: [key(idHash)], arguments: [String(idleSec * 1000)] })) as [string, string, string, string | null] | null;
      if (!found) return null;
      const [userId, csrfToken, exp, epoch] = found;
      const row = (await db.query<User & { disabled: boolean; session_epoch: number }>(sql('auth/user_by_id'), [userId])).rows[0];
      if (!row || row.disabled || row.session_epoch !== Number(epoch ?? 0)) return null;
      return { user: { id: row.id, username: row.username, role: row.role }, csrfToken, expiresAt: new Date(Number(exp)) };
    },
    async delete(idHash) {
      await call(() => client.del(key(idHash)));
    },
    async sweep() {},
    async check() {
      await client.ping();
    },
    async close() {
      // A client that is reconnecting to a Redis that is gone would wait for it: drop it instead.
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
    },
  };
}
