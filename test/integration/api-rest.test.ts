// The REST API of one `keel api` copy against a real cluster (DAG processor, scheduler,
// worker in-process): every endpoint, malformed input (4xx naming the field, nothing
// written), authentication with sessions and tokens, CSRF, roles, health and metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createToken, createUser } from '../../src/auth/users.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { ApiClient } from '../support/api.js';
import { spawnKeel } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/api/', import.meta.url));
let t: TestDatabase;
let cluster: TestCluster;
let base: string;
let admin: ApiClient;

const count = async (table: string) => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

before(async () => {
  t = await freshDatabase();
  cluster = await startRoles(testOptions(t.url, DAGS, { apiPort: 0, apiDrainSec: 0, secretKey: 'test-secret-key-0123456789' }), ['dag-processor', 'scheduler', 'worker', 'api']);
  base = `http://127.0.0.1:${cluster.roles[3]!.apiPort}`;
  await waitForDag(t.db, 'api_dag');
  await createUser(t.db, 'ada', 'correct horse', 'admin');
  await createUser(t.db, 'vic', 'viewer password', 'viewer');
  admin = new ApiClient(base);
  assert.equal((await admin.login('ada', 'correct horse')).status, 200);
});
after(async () => {
  await cluster?.stop();
  await t?.drop();
});

test('probes, detailed health and metrics need no login', async () => {
  const c = new ApiClient(base);
  assert.equal((await c.req('GET', '/health/live')).status, 200);
  assert.equal((await c.req('GET', '/health/ready')).status, 200);
  const h = await waitFor('healthy', async () => {
    const r = await c.req('GET', '/health');
    return r.body.status === 'healthy' ? r : null;
  });
  assert.equal(h.status, 200);
  assert.equal(h.body.database.reachable, true);
  assert.equal(h.body.database.role, 'primary');
  assert.equal(h.body.roles.scheduler.status, 'healthy');
  assert.ok(h.body.components.some((x: { role: string; heartbeatAgeSec: number }) => x.role === 'worker' && x.heartbeatAgeSec < 5));
  assert.equal((await c.req('GET', '/api/v1/health')).status, 200);
  const m = await c.req('GET', '/metrics');
  assert.equal(m.status, 200);
  for (const name of ['keel_http_requests_total', 'keel_http_request_duration_seconds_bucket', 'keel_task_instances', 'keel_component_heartbeat_age_seconds', 'keel_db_pool_connections']) {
    assert.ok(String(m.body).includes(name), `metrics include ${name}`);
  }
});

test('OpenAPI document lists the endpoints', async () => {
  const r = await new ApiClient(base).req('GET', '/api/v1/openapi.json');
  assert.equal(r.status, 200);
  assert.equal(r.body.openapi, '3.0.3');
  for (const p of ['/api/v1/dags', '/api/v1/dags/{dagId}/runs', '/api/v1/runs', '/api/v1/runs/{runId}/cancel', '/api/v1/runs/{runId}/tasks/{taskId}/logs', '/api/v1/pools/{name}', '/api/v1/connections/{connId}', '/api/v1/components', '/api/v1/haEvents', '/api/v1/auth/login', '/api/v1/auth/tokens', '/api/v1/auth/tokens/{tokenId}']) {
    assert.ok(r.body.paths[p], `OpenAPI has ${p}`);
  }
});

/** Field names outside user data that are not camelCase, and times that are not UTC with Z. */
function shapeProblems(value: unknown, path: string, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => shapeProblems(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (!/^[a-z][a-zA-Z0-9]*$/.test(k) && !path.endsWith('.roles')) out.push(`${path}.${k}: not camelCase`); // roles are keyed by role name
      if (['params', 'result', 'payload', 'extra', 'serialized', 'schedule', 'value', 'content'].includes(k)) continue;
      if (typeof v === 'string' && /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(v) && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v)) out.push(`${path}.${k}: ${v} is not ISO 8601 UTC with Z`);
      shapeProblems(v, `${path}.${k}`, out);
    }
  }
  return out;
}

test('one shape everywhere: camelCase names, ISO 8601 UTC times with Z; an empty body where every field is optional; Swagger UI', async () => {
  const none = await admin.req('POST', '/api/v1/dags/api_dag/runs');
  assert.equal(none.status, 201, JSON.stringify(none.body));
  const made = none.body as { id: string; runName: string };
  assert.match(made.runName, /^manual__/);
  const empty = await admin.req('POST', '/api/v1/dags/api_dag/runs', undefined, { 'content-type': 'application/json' });
  assert.equal(empty.status, 201, 'an empty JSON body is no body');
  assert.equal((await admin.req('POST', '/api/v1/dags/api_dag/pause', undefined, { 'content-type': 'application/json' })).status, 200);
  await admin.req('POST', '/api/v1/dags/api_dag/unpause');
  assert.equal(await waitForRunEnd(t.db, made.id), 'success');
  const run = (await admin.req('GET', `/api/v1/runs/${made.id}`)).body;
  assert.equal(run.runName, made.runName);
  assert.equal(run.id, made.id);
  const task = (await admin.req('GET', `/api/v1/runs/${made.id}/tasks/a`)).body;
  assert.equal(task.runId, made.id, 'runId is the numeric run id, as in the path');
  const version = (await admin.req('GET', `/api/v1/runs/${made.id}/dagVersion`)).body;
  assert.equal(version.versionHash, run.versionHash);
  assert.ok(version.serialized.tasks.length >= 2);
  const problems: string[] = [];
  for (const path of ['/health', '/api/v1/dags', '/api/v1/dags/api_dag', '/api/v1/dags/api_dag/grid', '/api/v1/runs', `/api/v1/runs/${made.id}`, `/api/v1/runs/${made.id}/tasks/a`,
    `/api/v1/runs/${made.id}/tasks/a/logs`, `/api/v1/runs/${made.id}/dagVersion`, '/api/v1/taskInstances', '/api/v1/components', '/api/v1/haEvents', '/api/v1/pools', '/api/v1/importErrors',
    '/api/v1/triggers', '/api/v1/users', '/api/v1/auth/tokens', '/api/v1/auth/me']) {
    const r = await admin.req('GET', path);
    assert.equal(r.status, 200, path);
    shapeProblems(r.body, path, problems);
  }
  assert.deepEqual(problems, []);
  const doc = (await admin.req('GET', '/api/v1/openapi.json')).body;
  assert.equal(doc.info.version, '2.0.0');
  assert.match(doc.info.description, /camelCase/);
  const ui = await fetch(`${base}/api/v1/docs/`);
  assert.equal(ui.status, 200);
  assert.match(await ui.text(), /swagger-ui/i);
});

test('without login: 401; wrong password: 401; security headers are set', async () => {
  const c = new ApiClient(base);
  const r = await c.req('GET', '/api/v1/dags');
  assert.equal(r.status, 401);
  assert.match(r.body.message, /log in/);
  assert.equal((await c.login('ada', 'wrong password')).status, 401);
  assert.equal((await c.login('nobody', 'wrong password')).status, 401);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ada', password: 'correct horse' }) });
  const cookie = login.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Secure/); // loopback counts as secure in auto mode
});

test('DAGs: list with import errors, show, grid with ETag, pause and unpause', async () => {
  const list = await admin.req('GET', '/api/v1/dags');
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.dags.map((d: { dagId: string }) => d.dagId), ['api_dag', 'api_slow']);
  assert.ok(list.body.importErrors.some((e: { fileloc: string; error: string }) => e.fileloc.includes('broken.ts') && e.error.includes('broken on purpose')));
  assert.equal((await admin.req('GET', '/api/v1/importErrors')).body.importErrors.length, 1);
  const show = await admin.req('GET', '/api/v1/dags/api_dag');
  assert.deepEqual(show.body.serialized.tasks.map((x: { taskId: string }) => x.taskId), ['a', 'b']);
  assert.equal(show.body.serialized.params.n.type, 'integer');
  assert.equal((await admin.req('GET', '/api/v1/dags/nope')).status, 404);
  const grid = await admin.req('GET', '/api/v1/dags/api_dag/grid');
  assert.equal(grid.status, 200);
  const etag = grid.headers.get('etag');
  assert.ok(etag);
  assert.equal((await admin.req('GET', '/api/v1/dags/api_dag/grid', undefined, { 'if-none-match': etag })).status, 304);
  assert.deepEqual((await admin.req('POST', '/api/v1/dags/api_dag/pause')).body, { dagId: 'api_dag', isPaused: true });
  assert.equal((await t.db.query('SELECT is_paused FROM dag WHERE dag_id = $1', ['api_dag'])).rows[0].is_paused, true);
  assert.equal((await admin.req('PATCH', '/api/v1/dags/api_dag', { isPaused: false })).status, 200);
  assert.equal((await t.db.query('SELECT is_paused FROM dag WHERE dag_id = $1', ['api_dag'])).rows[0].is_paused, false);
  assert.equal((await admin.req('POST', '/api/v1/dags/nope/pause')).status, 404);
});

test('trigger with params, watch the run, read task instances and logs, clear and retry', async () => {
  const r = await admin.req('POST', '/api/v1/dags/api_dag/runs', { params: { n: 21, who: 'Ada' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const runId = r.body.id;
  assert.equal(await waitForRunEnd(t.db, runId), 'success');
  const run = await admin.req('GET', `/api/v1/runs/${runId}`);
  assert.equal(run.body.state, 'success');
  assert.deepEqual(run.body.params, { n: 21, who: 'Ada' });
  assert.equal(run.body.tasks.length, 2);
  assert.equal((await admin.req('GET', `/api/v1/runs/${runId}/tasks`)).body.tasks.length, 2);
  const ti = await admin.req('GET', `/api/v1/runs/${runId}/tasks/a`);
  assert.equal(ti.body.state, 'success');
  assert.equal(ti.body.result, 42);
  assert.equal(ti.body.attempts.length, 1);
  const log = await admin.req('GET', `/api/v1/runs/${runId}/tasks/a/logs`);
  assert.match(log.body.content, /hello to Ada, n=21/);
  assert.equal(log.body.done, true);
  const tail = await admin.req('GET', `/api/v1/runs/${runId}/tasks/a/logs?offset=${log.body.nextOffset}`);
  assert.equal(tail.body.content, '');
  const part = await admin.req('GET', `/api/v1/runs/${runId}/tasks/a/logs?maxChars=5`);
  assert.equal(part.body.content.length, 5);
  assert.equal(part.body.nextOffset, 5);
  assert.equal(part.body.done, false);

  const list = await admin.req('GET', `/api/v1/runs?dagId=api_dag&state=success&limit=1`);
  assert.equal(list.body.runs.length, 1);
  assert.ok(list.body.total >= 1);
  assert.equal((await admin.req('GET', `/api/v1/taskInstances?dagId=api_dag&state=success`)).body.total >= 2, true);

  const cleared = await admin.req('POST', `/api/v1/runs/${runId}/tasks/b/clear`);
  assert.deepEqual([cleared.body.runId, cleared.body.cleared], [runId, ['b']]);
  await waitFor('b to run again', async () => (await t.db.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND task_id = 'b' AND try_number = 2 AND state = 'success'`, [runId])).rowCount);
  assert.equal(await waitForRunEnd(t.db, runId), 'success');
  const all = await admin.req('POST', `/api/v1/runs/${runId}/clear`, {});
  assert.deepEqual(all.body.cleared.sort(), ['a', 'b']);
  assert.equal(await waitForRunEnd(t.db, runId), 'success');
  assert.equal((await admin.req('POST', `/api/v1/runs/${runId}/clear`, { taskIds: ['zzz'] })).status, 400);
  assert.equal((await admin.req('POST', `/api/v1/runs/99999/clear`, {})).status, 404);
});

test('cancel a running run: its attempt is fenced and the run fails', async () => {
  const r = await admin.req('POST', '/api/v1/dags/api_slow/runs', {});
  const runId = r.body.id;
  await waitFor('wait to run', async () => (await t.db.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [runId])).rowCount);
  const c = await admin.req('POST', `/api/v1/runs/${runId}/cancel`);
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.deepEqual(c.body.cancelledTasks, ['wait']);
  assert.equal((await t.db.query('SELECT state FROM dag_run WHERE id = $1', [runId])).rows[0].state, 'failed');
  assert.equal((await admin.req('POST', `/api/v1/runs/${runId}/cancel`)).status, 409);
  // The worker learns at its next lease renewal and stops the attempt.
  await waitFor('attempt to end', async () => (await t.db.query(`SELECT 1 FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id WHERE t.dag_run_id = $1 AND a.state <> 'running'`, [runId])).rowCount);
});

test('malformed requests: 4xx naming the field, nothing written', async () => {
  const runs = await count('dag_run');
  const cases: [string, string, unknown, number, string][] = [
    ['POST', '/api/v1/dags/api_dag/runs', { params: { n: -1 } }, 400, 'body.params.n'],
    ['POST', '/api/v1/dags/api_dag/runs', { params: { n: 'x' } }, 400, 'body.params.n'],
    ['POST', '/api/v1/dags/api_dag/runs', { params: { bogus: 1 } }, 400, 'body.params.bogus'],
    ['POST', '/api/v1/dags/api_dag/runs', { params: [] }, 400, 'body.params'],
    ['POST', '/api/v1/dags/api_dag/runs', { logicalDate: 'yesterday' }, 400, 'body.logicalDate'],
    ['POST', '/api/v1/dags/api_dag/runs', { color: 'red' }, 400, 'body.color'],
    ['POST', '/api/v1/dags/api_dag/runs', '{not json', 400, 'body'],
    ['GET', '/api/v1/runs?limit=0', undefined, 400, 'querystring.limit'],
    ['GET', '/api/v1/runs?state=bogus', undefined, 400, 'querystring.state'],
    ['GET', '/api/v1/runs/abc', undefined, 400, 'params.runId'],
    ['PUT', '/api/v1/pools/p1', { slots: -3 }, 400, 'body.slots'],
    ['PUT', '/api/v1/pools/p1', {}, 400, 'body.slots'],
    ['PUT', '/api/v1/variables/v1', { value: 5 }, 400, 'body.value'],
    ['PUT', '/api/v1/connections/c1', { host: 'x' }, 400, 'body.connType'],
    ['PUT', '/api/v1/connections/c1', { connType: 'postgres', port: 70000 }, 400, 'body.port'],
    ['PATCH', '/api/v1/dags/api_dag', { isPaused: 'maybe' }, 400, 'body.isPaused'],
  ];
  for (const [method, path, body, status, field] of cases) {
    const r = await admin.req(method, path, body);
    assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.field, field, `${method} ${path} names ${field}: ${JSON.stringify(r.body)}`);
    assert.ok(String(r.body.message).includes(field), `message names the field: ${r.body.message}`);
  }
  assert.equal(await count('dag_run'), runs);
  assert.equal(await count('variable'), 0);
  assert.equal(await count('connection'), 0);
  assert.equal((await t.db.query(`SELECT count(*)::int AS n FROM pool WHERE name = 'p1'`)).rows[0].n, 0);
});

test('pools, variables and connections; connection passwords encrypted at rest and never returned', async () => {
  assert.equal((await admin.req('PUT', '/api/v1/pools/warehouse', { slots: 3, description: 'dw' })).body.slots, 3);
  assert.equal((await admin.req('PUT', '/api/v1/pools/warehouse', { slots: 5 })).body.slots, 5);
  const pools = (await admin.req('GET', '/api/v1/pools')).body.pools;
  assert.deepEqual(pools.map((p: { name: string }) => p.name), ['default_pool', 'warehouse']);
  assert.equal((await admin.req('DELETE', '/api/v1/pools/default_pool')).status, 400);
  assert.equal((await admin.req('DELETE', '/api/v1/pools/warehouse')).status, 204);

  assert.equal((await admin.req('PUT', '/api/v1/variables/region', { value: 'eu-west', description: 'where' })).status, 200);
  assert.equal((await admin.req('GET', '/api/v1/variables/region')).body.value, 'eu-west');
  assert.equal((await admin.req('GET', '/api/v1/variables')).body.variables.length, 1);
  assert.equal((await admin.req('DELETE', '/api/v1/variables/region')).status, 204);
  assert.equal((await admin.req('GET', '/api/v1/variables/region')).status, 404);

  const put = await admin.req('PUT', '/api/v1/connections/warehouse_db', { connType: 'postgres', host: 'db', port: 5432, login: 'etl', password: 's3cret-value', extra: { sslmode: 'require' } });
  assert.equal(put.status, 200);
  assert.equal(put.body.password, '***');
  const stored = (await t.db.query('SELECT password_encrypted FROM connection')).rows[0].password_encrypted as Buffer;
  assert.ok(!stored.toString('latin1').includes('s3cret-value'), 'not stored in clear');
  assert.ok(stored.length >= 12 + 16 + 'sec'.length);
  const got = await admin.req('GET', '/api/v1/connections/warehouse_db');
  assert.equal(got.body.password, '***');
  assert.ok(!JSON.stringify(got.body).includes('s3cret'));
  assert.ok(!JSON.stringify((await admin.req('GET', '/api/v1/connections')).body).includes('s3cret'));
  const kept = await admin.req('PUT', '/api/v1/connections/warehouse_db', { connType: 'postgres', host: 'db2', keepPassword: true });
  assert.equal(kept.body.host, 'db2');
  assert.equal(kept.body.password, '***', 'an edit with keepPassword keeps the write-only password');
  const both = await admin.req('PUT', '/api/v1/connections/warehouse_db', { connType: 'postgres', password: 'x', keepPassword: true });
  assert.equal(both.status, 400);
  assert.equal(both.body.field, 'body.keepPassword');
  assert.equal((await admin.req('PUT', '/api/v1/connections/warehouse_db', { connType: 'postgres', host: 'db2' })).body.password, null, 'a replacement without it has none');
  assert.equal((await admin.req('DELETE', '/api/v1/connections/warehouse_db')).status, 204);
});

test('components, HA events and the database role', async () => {
  const c = await admin.req('GET', '/api/v1/components');
  assert.equal(c.body.database.role, 'primary');
  const roles = c.body.components.map((x: { role: string }) => x.role).sort();
  for (const role of ['api', 'dag-processor', 'scheduler', 'worker']) assert.ok(roles.includes(role), `component ${role}`);
  const e = await admin.req('GET', '/api/v1/haEvents?limit=5&kind=component_joined');
  assert.ok(e.body.events.length >= 1 && e.body.events.every((x: { kind: string }) => x.kind === 'component_joined'));
});

test('CSRF: cookie writes need the token; tokens need none; viewers cannot write', async () => {
  const noCsrf = await admin.req('POST', '/api/v1/dags/api_dag/pause', undefined, { 'x-csrf-token': 'wrong' });
  assert.equal(noCsrf.status, 403);
  assert.equal(noCsrf.body.field, 'headers.x-csrf-token');
  const bare = new ApiClient(base);
  bare.cookie = admin.cookie;
  assert.equal((await bare.req('POST', '/api/v1/dags/api_dag/pause')).status, 403);
  assert.equal((await t.db.query('SELECT is_paused FROM dag WHERE dag_id = $1', ['api_dag'])).rows[0].is_paused, false);

  const me = await admin.req('GET', '/api/v1/auth/me');
  assert.equal(me.body.user.username, 'ada');
  assert.equal(me.body.csrfToken, admin.csrf);

  const { token } = await createToken(t.db, 'ada', 'ci', null);
  const api = new ApiClient(base);
  api.token = token;
  assert.equal((await api.req('POST', '/api/v1/dags/api_dag/unpause')).status, 200);
  assert.equal((await t.db.query('SELECT count(*)::int AS n FROM api_token WHERE token_hash = $1', [token])).rows[0].n, 0, 'only the hash is stored');
  const bad = new ApiClient(base);
  bad.token = 'keel_wrong';
  assert.equal((await bad.req('GET', '/api/v1/dags')).status, 401);
  const made = await admin.req('POST', '/api/v1/auth/tokens', { name: 'mine' });
  assert.equal(made.status, 201);
  assert.match(made.body.token, /^keel_/);

  const viewer = new ApiClient(base);
  await viewer.login('vic', 'viewer password');
  assert.equal((await viewer.req('GET', '/api/v1/dags')).status, 200);
  const denied = await viewer.req('POST', '/api/v1/dags/api_dag/runs', {});
  assert.equal(denied.status, 403);
  assert.match(denied.body.message, /op role/);

  const out = new ApiClient(base);
  await out.login('vic', 'viewer password');
  const cookie = out.cookie;
  assert.equal((await out.req('POST', '/api/v1/auth/logout')).status, 200);
  const stale = new ApiClient(base);
  stale.cookie = cookie;
  assert.equal((await stale.req('GET', '/api/v1/dags')).status, 401, 'a logged-out session is gone');
});

test('API tokens: list without secrets, revoke your own, admins see and revoke anyone\'s; the CLI does the same', async () => {
  const viewer = new ApiClient(base);
  await viewer.login('vic', 'viewer password');
  const made = await viewer.req('POST', '/api/v1/auth/tokens', { name: 'vic-laptop', lifetimeSec: 3600 });
  assert.equal(made.status, 201);
  const vicToken = Object.assign(new ApiClient(base), { token: made.body.token });
  assert.equal((await vicToken.req('GET', '/api/v1/dags')).status, 200);

  const mine = await viewer.req('GET', '/api/v1/auth/tokens');
  assert.deepEqual(mine.body.tokens.map((x: { name: string }) => x.name), ['vic-laptop'], 'only the caller\'s');
  const listed = mine.body.tokens[0];
  assert.equal(listed.username, 'vic');
  assert.ok(listed.expiresAt && listed.lastUsedAt, 'expiry and last use are shown');
  assert.ok(!('token' in listed) && !('tokenHash' in listed), 'never the token or its hash');
  const all = await viewer.req('GET', '/api/v1/auth/tokens?all=true');
  assert.equal(all.status, 403);
  assert.equal(all.body.field, 'querystring.all');
  const everyone = await admin.req('GET', '/api/v1/auth/tokens?all=true');
  assert.ok(everyone.body.tokens.some((x: { username: string }) => x.username === 'vic') && everyone.body.tokens.some((x: { username: string }) => x.username === 'ada'));

  const adaToken = everyone.body.tokens.find((x: { username: string }) => x.username === 'ada');
  assert.equal((await viewer.req('DELETE', `/api/v1/auth/tokens/${adaToken.id}`)).status, 404, 'not someone else\'s');
  const badId = await viewer.req('DELETE', '/api/v1/auth/tokens/abc');
  assert.equal(badId.status, 400);
  assert.equal(badId.body.field, 'params.tokenId');
  assert.equal((await viewer.req('DELETE', `/api/v1/auth/tokens/${listed.id}`)).status, 204);
  assert.equal((await vicToken.req('GET', '/api/v1/dags')).status, 401, 'refused from the next request on');
  assert.equal((await viewer.req('DELETE', `/api/v1/auth/tokens/${listed.id}`)).status, 404);

  const { id } = await createToken(t.db, 'vic', 'cli-made', null);
  const cli = (args: string[]) => spawnKeel(['--json', 'users', ...args], { KEEL_DATABASE_URL: t.url, KEEL_LOG_LEVEL: 'warn' });
  const list = cli(['tokens', '--username', 'vic']);
  assert.equal(await list.exited, 0);
  assert.deepEqual(JSON.parse(list.output()).map((x: { name: string }) => x.name), ['cli-made']);
  const revoke = cli(['revoke-token', id]);
  assert.equal(await revoke.exited, 0);
  assert.equal(JSON.parse(revoke.output()).username, 'vic');
  assert.equal((await t.db.query('SELECT 1 FROM api_token WHERE id = $1', [id])).rowCount, 0);
});

test('sessions time out when idle', async () => {
  const c = new ApiClient(base);
  await c.login('ada', 'correct horse');
  await t.db.query(`UPDATE web_session SET last_seen_at = now() - interval '9 hours'`);
  assert.equal((await c.req('GET', '/api/v1/dags')).status, 401);
  admin = new ApiClient(base);
  await admin.login('ada', 'correct horse');
});

test('the web UI is served with immutable fingerprinted assets', async () => {
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(res.headers.get('cache-control') ?? '', /no-cache/);
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset, 'index.html references a fingerprinted script');
  const js = await fetch(base + asset);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
});
