// Choosing the session store from the options, and what its errors and logs may show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOptions } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { Database } from '../../src/db/database.js';
import { openSessionStore } from '../../src/api/sessions/open.js';
import { redactUrl } from '../../src/config/redact-url.js';

const log = createLogger({ level: 'silent', format: 'json' });
const noDb = {} as Database;

test('a Redis URL never shows its password', () => {
  assert.equal(redactUrl('redis://:s3cret@10.0.0.5:6379/0'), 'redis://:***@10.0.0.5:6379/0');
  assert.equal(redactUrl('rediss://keel:s3cret@redis.example:6380'), 'rediss://keel:***@redis.example:6380');
  assert.equal(redactUrl('redis://10.0.0.5:6379'), 'redis://10.0.0.5:6379');
});

test('options: the store is postgres or redis, and redisUrl must be a redis URL', () => {
  const load = (env: Record<string, string>) => loadOptions({ env, noConfigFile: true });
  assert.equal(load({}).apiSessionStore, 'postgres');
  assert.equal(load({ KEEL_API_SESSION_STORE: 'redis', KEEL_REDIS_URL: 'redis://h:1' }).redisUrl, 'redis://h:1');
  assert.throws(() => load({ KEEL_API_SESSION_STORE: 'memcached' }), /invalid apiSessionStore from environment variable KEEL_API_SESSION_STORE/);
  assert.throws(() => load({ KEEL_REDIS_URL: 'http://h:1' }), /invalid redisUrl .*must start with redis:\/\/ or rediss:\/\//);
});

test('the store follows apiSessionStore; redis without redisUrl is a usage error naming both', async () => {
  assert.equal((await openSessionStore(noDb, { apiSessionStore: 'postgres', redisUrl: undefined, dbConnectRetrySec: 0 }, log)).kind, 'postgres');
  await assert.rejects(openSessionStore(noDb, { apiSessionStore: 'redis', redisUrl: undefined, dbConnectRetrySec: 0 }, log),
    (err: Error) => err instanceof UsageError && /apiSessionStore is redis but redisUrl is unset/.test(err.message));
});
