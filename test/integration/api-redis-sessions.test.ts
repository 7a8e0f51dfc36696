// Browser sessions in Redis (apiSessionStore=redis): the test starts its own redis-server
// (free loopback port, temp folder, no persistence) and two API copies on it. A session
// made on one copy is served by the other, CSRF included; a logout on one ends it on
// both; the idle and absolute timeouts are key TTLs; a Redis outage answers 503 (and
// readiness says why) instead of logging users out, and an unreachable Redis at start
// stops `keel api` with an error naming redisUrl.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { createToken, createUser } from '../../src/auth/users.js';
import { tokenHash } from '../../src/auth/tokens.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, type TestCluster } from '../support/cluster.js';
import { ApiClient } from '../support/api.js';
import { spawnKeel } from '../support/processes.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { freePort } from '../support/tools.js';

const DAGS = fileURLToPath(new URL('../fixtures/api/', import.meta.url));
const IDLE_SEC = 2;
let t: TestDatabase;
let redis: TestRedis;
let cluster: TestCluster;
let a: string;
let b: string;
let inspect: ReturnType<typeof createClient>;

const sessionKey = (c: ApiClient) => `keel:session:${tokenHash(c.cookie!.split('=')[1]!)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const redisOptions = (extra: Record<string, unknown> = {}) => testOptions(t.url, DAGS, { apiPort: 0, apiSessionStore: 'redis', redisUrl: redis.url, apiSessionIdleSec: IDLE_SEC, apiDrainSec: 0, ...extra });

before(async () => {
  redis = await startRedis();
  t = await freshDatabase();
  cluster = await startRoles(redisOptions(), ['api', 'api']);
  a = `http://127.0.0.1:${cluster.roles[0]!.apiPort}`;
  b = `http://127.0.0.1:${cluster.roles[1]!.apiPort}`;
  await createUser(t.db, 'ada', 'correct horse', 'admin');
  inspect = createClient({ url: redis.url });
  inspect.on('error', () => {});
  await inspect.connect();
});
after(async () => {
  await inspect?.close().catch(() => {});
  await cluster?.stop();
  await t?.drop();
  await redis?.stop();
});

test('a session made on copy A is served by copy B with its CSRF token; logout on B ends it on both', async () => {
  const onA = new ApiClient(a);
  assert.equal((await onA.login('ada', 'correct horse')).status, 200);
  const key = sessionKey(onA);
  const ttl = await inspect.pTTL(key);
  assert.ok(ttl > 0 && ttl <= IDLE_SEC * 1000, `the key's TTL is the idle timeout (${ttl} ms)`);
  assert.equal((await t.db.query('SELECT 1 FROM web_session')).rowCount, 0, 'nothing in PostgreSQL');

  const onB = onA.on(b);
  const me = await onB.req('GET', '/api/v1/auth/me');
  assert.deepEqual([me.status, me.body.user.username, me.body.csrfToken], [200, 'ada', onA.csrf]);
  assert.equal((await onB.req('PUT', '/api/v1/variables/from_b', { value: 'x' })).status, 200, 'the CSRF token is valid on the other copy');
  const forged = await onB.req('PUT', '/api/v1/variables/forged', { value: 'x' }, { 'x-csrf-token': 'wrong' });
  assert.equal(forged.status, 403);
  assert.equal(forged.body.field, 'headers.x-csrf-token');

  assert.equal((await onB.req('POST', '/api/v1/auth/logout')).status, 200);
  assert.equal(await inspect.exists(key), 0, 'the key is deleted');
  assert.equal((await onA.req('GET', '/api/v1/auth/me')).status, 401);
  assert.equal((await onA.on(b).req('GET', '/api/v1/auth/me')).status, 401);
});

test('the idle timeout slides with use and ends an unused session (key TTL)', async () => {
  const c = new ApiClient(a);
  await c.login('ada', 'correct horse');
  const other = c.on(b);
  // Used every half of the idle timeout, alternately on both copies, it stays alive past it.
  for (let i = 0; i < 5; i++) {
    await sleep(IDLE_SEC * 500);
    assert.equal((await (i % 2 ? c : other).req('GET', '/api/v1/auth/me')).status, 200, `use ${i + 1}`);
  }
  const key = sessionKey(c);
  await sleep(IDLE_SEC * 1000 + 500);
  assert.equal(await inspect.exists(key), 0, 'Redis expired the key');
  assert.equal((await c.req('GET', '/api/v1/auth/me')).status, 401);
  assert.equal((await other.req('GET', '/api/v1/auth/me')).status, 401);
});

test('the absolute timeout ends a session in use', async () => {
  const short = await startRoles(redisOptions({ apiSessionIdleSec: 60, apiSessionMaxSec: 2 }), ['api']);
  try {
    const c = new ApiClient(`http://127.0.0.1:${short.roles[0]!.apiPort}`);
    await c.login('ada', 'correct horse');
    assert.ok(await inspect.pTTL(sessionKey(c)) <= 2000, 'the TTL never reaches past the absolute expiry');
    const ended = await waitFor('the session to end', async () => {
      const r = await c.req('GET', '/api/v1/auth/me');
      return r.status === 401 ? r : null;
    }, 10_000, 250);
    assert.match(ended.body.message, /session expired/);
  } finally {
    await short.stop();
  }
});

test('a Redis outage answers 503 naming the session store, readiness fails, tokens keep working; after a restart users log in again', async () => {
  const c = new ApiClient(a);
  await c.login('ada', 'correct horse');
  const api = new ApiClient(b);
  api.token = (await createToken(t.db, 'ada', 'outage', null)).token;
  await redis.kill();
  const r = await c.req('GET', '/api/v1/dags');
  assert.equal(r.status, 503);
  assert.match(r.body.message, /session store \(Redis at redis:\/\/127\.0\.0\.1:\d+\) is unreachable/);
  const ready = await new ApiClient(a).req('GET', '/health/ready');
  assert.equal(ready.status, 503);
  assert.match(ready.body.reason, /session store \(redis\)/);
  assert.equal((await api.req('GET', '/api/v1/dags')).status, 200, 'API tokens live in PostgreSQL');

  await redis.restart();
  await waitFor('both copies ready again', async () => (await new ApiClient(a).req('GET', '/health/ready')).status === 200 && (await new ApiClient(b).req('GET', '/health/ready')).status === 200, 20_000, 200);
  assert.equal((await c.req('GET', '/api/v1/auth/me')).status, 401, 'the restarted Redis kept nothing (no persistence in this test)');
  assert.equal((await c.login('ada', 'correct horse')).status, 200);
  assert.equal((await c.on(b).req('GET', '/api/v1/auth/me')).status, 200);
});

test('an unreachable Redis at start stops `keel api` with an error naming redisUrl', async () => {
  const closed = await freePort();
  const p = spawnKeel(['api'], {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_API_PORT: '0', KEEL_API_SESSION_STORE: 'redis',
    KEEL_REDIS_URL: `redis://:secret@127.0.0.1:${closed}`, KEEL_DB_CONNECT_RETRY_SEC: '1',
  });
  assert.equal(await p.exited, 1);
  assert.match(p.output(), /redisUrl: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(the session store, apiSessionStore=redis\) is unreachable after 1 s/);
  assert.doesNotMatch(p.output(), /secret/, 'the password is not printed');

  const missing = spawnKeel(['api'], { KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_API_PORT: '0', KEEL_API_SESSION_STORE: 'redis' });
  assert.equal(await missing.exited, 2);
  assert.match(missing.output(), /apiSessionStore is redis but redisUrl is unset/);
});
