// Issue 11, finding 9: answers carrying credentials could be cached; two Idempotency-Key
// headers were joined into "a, b" and accepted; /health told anyone the database address,
// system identifier and component PIDs; /variables and /connections returned everything at
// once; POST …/pause took any body. (Invalid UTF-8 and lone surrogates: input-limits; the
// CLI's password from standard input or a file: tokens-users.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createToken } from '../../src/auth/users.js';
import { ApiClient, useApiCluster } from '../support/api.js';

const DAGS = fileURLToPath(new URL('../fixtures/security/', import.meta.url));
// 127.0.0.1 is a trusted proxy: the test poses as outside clients with X-Forwarded-For.
const api = useApiCluster(DAGS, ['sec_dag'], { apiTrustProxy: '127.0.0.1' }, ['dag-processor', 'api']);
const OUTSIDE = { 'x-forwarded-for': '203.0.113.5' };

test('login, token creation and /auth/me answer Cache-Control: no-store', async () => {
  const c = new ApiClient(api.base);
  assert.equal((await c.login('ada', 'wrong password')).headers.get('cache-control'), 'no-store');
  assert.equal((await c.login('ada', 'correct horse')).headers.get('cache-control'), 'no-store');
  assert.equal((await c.req('GET', '/api/v1/auth/me')).headers.get('cache-control'), 'no-store');
  const made = await c.req('POST', '/api/v1/auth/tokens', { name: 'cached?' });
  assert.equal(made.status, 201);
  assert.equal(made.headers.get('cache-control'), 'no-store');
});

test('a request with two Idempotency-Key headers is refused and creates nothing', async () => {
  const { token } = await createToken(api.t.db, 'ada', 'keys', null);
  const runs = async () => (await api.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dag_run')).rows[0]!.n;
  const before = await runs();
  const url = new URL(`${api.base}/api/v1/dags/sec_dag/runs`);
  // An array value sends the header twice (fetch would join them into one).
  const answer = await new Promise<{ status: number; body: { field?: string; message: string } }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': ['key-a', 'key-b'] } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end('{}');
  });
  assert.equal(answer.status, 400, JSON.stringify(answer.body));
  assert.equal(answer.body.field, 'headers.idempotency-key');
  assert.match(answer.body.message, /send the header once/);
  assert.equal(await runs(), before);
  const once = await api.admin.req('POST', '/api/v1/dags/sec_dag/runs', {}, { 'idempotency-key': 'key-a, key-b' });
  assert.equal(once.status, 201, 'one header whose value has a comma is one key');
});

test('/health details go only to logged-in or loopback callers', async () => {
  const anonymous = new ApiClient(api.base);
  for (const path of ['/health', '/api/v1/health']) {
    const outside = await anonymous.req('GET', path, undefined, OUTSIDE);
    // No scheduler runs here, so the status is unhealthy (503): the same for every caller.
    assert.equal(outside.status, (await anonymous.req('GET', path)).status);
    assert.ok(outside.body.status && outside.body.roles, `${path}: the statuses a monitor needs`);
    assert.equal(outside.body.components, undefined, `${path}: no hosts or PIDs`);
    assert.deepEqual(Object.keys(outside.body.database).sort(), ['reachable', 'role'], `${path}: no database address or system identifier`);
    const loggedIn = await api.admin.req('GET', path, undefined, OUTSIDE);
    assert.ok(Array.isArray(loggedIn.body.components) && loggedIn.body.database.systemId, `${path}: details when logged in`);
    const loopback = await anonymous.req('GET', path);
    assert.ok(Array.isArray(loopback.body.components) && loopback.body.database.server, `${path}: details on loopback`);
  }
  const { token } = await createToken(api.t.db, 'vic', 'monitor', null);
  const viaToken = await Object.assign(new ApiClient(api.base), { token }).req('GET', '/health', undefined, OUTSIDE);
  assert.ok(Array.isArray(viaToken.body.components), 'details with an API token');
});

test('/variables and /connections are paginated like the other lists', async () => {
  for (const k of ['v_a', 'v_b', 'v_c']) await api.admin.req('PUT', `/api/v1/variables/${k}`, { value: k });
  for (const c of ['c_a', 'c_b', 'c_c']) await api.admin.req('PUT', `/api/v1/connections/${c}`, { connType: 'http' });
  for (const [path, list] of [['/api/v1/variables', 'variables'], ['/api/v1/connections', 'connections']] as const) {
    const first = await api.admin.req('GET', `${path}?limit=2`);
    assert.equal(first.status, 200);
    assert.deepEqual({ n: first.body[list].length, total: first.body.total, limit: first.body.limit, offset: first.body.offset }, { n: 2, total: 3, limit: 2, offset: 0 });
    const rest = await api.admin.req('GET', `${path}?limit=2&offset=2`);
    assert.equal(rest.body[list].length, 1);
    assert.equal((await api.admin.req('GET', `${path}?limit=100000`)).status, 400, 'a bounded page');
  }
});

test('write routes that take no body reject unknown body fields, as every other route does', async () => {
  const paused = await api.admin.req('POST', '/api/v1/dags/sec_dag/pause', { paused: true, reason: 'x' });
  assert.equal(paused.status, 400);
  assert.match(paused.body.field, /^body\.(paused|reason)$/);
  assert.match(paused.body.message, /unknown field/);
  assert.equal((await api.admin.req('POST', '/api/v1/dags/sec_dag/unpause', { isPaused: false })).status, 400);
  assert.equal((await api.admin.req('POST', '/api/v1/dags/sec_dag/pause')).status, 200, 'no body');
  assert.equal((await api.admin.req('POST', '/api/v1/dags/sec_dag/unpause', {})).status, 200, 'an empty object');
  assert.equal((await api.admin.req('POST', '/api/v1/auth/logout', { everywhere: true })).status, 400);
});
