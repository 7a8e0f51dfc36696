// Two API copies on one database, as behind a load balancer: a session made on one copy
// works on the other (and a logout on one ends it on both), and a rate limit is shared:
// a client cannot multiply its budget by the number of copies. A stopping copy drains:
// readiness fails first while it still serves, so a load balancer takes it out cleanly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createToken, createUser } from '../../src/auth/users.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, type TestCluster } from '../support/cluster.js';
import { ApiClient } from '../support/api.js';

const DAGS = fileURLToPath(new URL('../fixtures/api/', import.meta.url));
let t: TestDatabase;
let cluster: TestCluster;
let a: string;
let b: string;

before(async () => {
  t = await freshDatabase();
  cluster = await startRoles(testOptions(t.url, DAGS, { apiPort: 0, apiLoginRateLimit: 4, apiWriteRateLimit: 6, apiDrainSec: 0 }), ['api', 'api']);
  a = `http://127.0.0.1:${cluster.roles[0]!.apiPort}`;
  b = `http://127.0.0.1:${cluster.roles[1]!.apiPort}`;
  await createUser(t.db, 'ada', 'correct horse', 'admin');
});
after(async () => {
  await cluster?.stop();
  await t?.drop();
});

test('a session made on one copy is served by the other; logout on one ends it on both', async () => {
  const onA = new ApiClient(a);
  assert.equal((await onA.login('ada', 'correct horse')).status, 200);
  const onB = onA.on(b);
  const me = await onB.req('GET', '/api/v1/auth/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.user.username, 'ada');
  assert.equal((await onB.req('PUT', '/api/v1/variables/from_b', { value: 'x' })).status, 200, 'CSRF token of the session is valid on the other copy');
  assert.equal((await onB.req('POST', '/api/v1/auth/logout')).status, 200);
  assert.equal((await onA.req('GET', '/api/v1/auth/me')).status, 401);
});

test('the login rate limit is shared by both copies', async () => {
  await t.db.query('DELETE FROM rate_limit'); // the logins and writes of the test before
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await new ApiClient(i % 2 ? b : a).login('ada', 'wrong password')).status);
  assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429], 'four tries in all, whichever copy answers');
  const limited = await new ApiClient(b).login('ada', 'correct horse');
  assert.equal(limited.status, 429);
  assert.match(limited.body.message, /retry in/i);
  // A new window opens once the old one has passed (database clock).
  await t.db.query(`UPDATE rate_limit SET window_start = now() - interval '2 minutes' WHERE key LIKE '%login%'`);
  assert.equal((await new ApiClient(a).login('ada', 'correct horse')).status, 200);
});

test('the write rate limit is shared by both copies', async () => {
  const onA = new ApiClient(a);
  await onA.login('ada', 'correct horse');
  await t.db.query('DELETE FROM rate_limit');
  const onB = onA.on(b);
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await (i % 2 ? onB : onA).req('PUT', `/api/v1/variables/v${i}`, { value: String(i) })).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429]);
  const written = (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM variable WHERE key LIKE 'v%'`)).rows[0]!.n;
  assert.equal(written, 6, 'a limited write changes nothing');
});

test('an API token revoked on one copy is refused by both at once', async () => {
  await t.db.query('DELETE FROM rate_limit');
  const onA = new ApiClient(a);
  await onA.login('ada', 'correct horse');
  const made = await onA.req('POST', '/api/v1/auth/tokens', { name: 'ci' });
  assert.equal(made.status, 201);
  const viaA = Object.assign(new ApiClient(a), { token: made.body.token });
  const viaB = viaA.on(b);
  assert.equal((await viaA.req('GET', '/api/v1/dags')).status, 200);
  assert.equal((await viaB.req('GET', '/api/v1/dags')).status, 200);
  const onB = onA.on(b);
  const listed = (await onB.req('GET', '/api/v1/auth/tokens')).body.tokens.find((x: { name: string }) => x.name === 'ci');
  assert.equal((await onB.req('DELETE', `/api/v1/auth/tokens/${listed.id}`)).status, 204);
  assert.equal((await viaA.req('GET', '/api/v1/dags')).status, 401);
  assert.equal((await viaB.req('GET', '/api/v1/dags')).status, 401);
});

test('a stopping copy drains: readiness answers 404 while requests are still served, then it closes', async () => {
  const extra = await startRoles(testOptions(t.url, DAGS, { apiPort: 0, apiDrainSec: 2 }), ['api']);
  const base = `http://127.0.0.1:${extra.roles[0]!.apiPort}`;
  const client = new ApiClient(base);
  client.token = (await createToken(t.db, 'ada', 'drain', null)).token;
  assert.equal((await client.req('GET', '/health/ready')).status, 200);
  const stopping = extra.stop();
  const ready = await waitFor('readiness to turn 404', async () => {
    const r = await client.req('GET', '/health/ready');
    return r.status === 404 ? r : null;
  }, 5000, 50);
  assert.equal(ready.body.status, 'draining');
  assert.equal((await client.req('GET', '/api/v1/dags')).status, 200, 'still serving while the load balancer takes it out');
  await stopping;
  await assert.rejects(client.req('GET', '/health/live'), 'closed after the drain');
});
