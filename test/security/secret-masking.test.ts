// Issue 11, finding 6: no secret masking. A connection password printed by a task was
// readable in its log with a viewer token, and variables and connection extra were returned
// in full to viewers. Now workers mask known secrets in task logs and errors before they are
// stored, and non-admins get sensitive variables and extra fields masked (an edit that sends
// the mask back keeps the stored value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createUser } from '../../src/auth/users.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { ApiClient, useApiCluster } from '../support/api.js';
import { waitForDag, waitForRunEnd } from '../support/cluster.js';
import { EXTRA_TOKEN, NESTED_KEY, PASSWORD, VARIABLE_VALUE } from '../fixtures/security/masking/masking.js';

const DAGS = fileURLToPath(new URL('../fixtures/security/masking/', import.meta.url));
const SECRETS = [PASSWORD, encodeURIComponent(PASSWORD), EXTRA_TOKEN, NESTED_KEY, VARIABLE_VALUE];
const EXTRA = { region: 'eu-west-1', api_token: EXTRA_TOKEN, nested: { private_key: NESTED_KEY, port: 5432 } };

const c = useApiCluster(DAGS, ['sec_prints', 'sec_throws'], { secretKey: 'masking-test-secret-key-0123' }, ['dag-processor', 'scheduler', 'worker', 'api']);
let viewer: ApiClient;
let op: ApiClient;

// An admin stores a connection with a password and secret extra fields, and two variables,
// once, from the first test (root-level before hooks of Node 20 run at the same time as
// useApiCluster's, which starts the cluster).
let stored: Promise<void> | null = null;
const setup = () => (stored ??= store());
async function store(): Promise<void> {
  for (const [method, path, body] of [
    ['PUT', '/api/v1/connections/warehouse', { connType: 'postgres', host: 'db.internal', login: 'app', password: PASSWORD, extra: EXTRA }],
    ['PUT', '/api/v1/variables/partner_api_key', { value: VARIABLE_VALUE }],
    ['PUT', '/api/v1/variables/greeting', { value: 'hello-world' }],
  ] as const) assert.equal((await c.admin.req(method, path, body)).status, 200, path);
  viewer = new ApiClient(c.base);
  assert.equal((await viewer.login('vic', 'viewer password')).status, 200);
  await createUser(c.t.db, 'oscar', 'operator password', 'op');
  op = new ApiClient(c.base);
  assert.equal((await op.login('oscar', 'operator password')).status, 200);
}

function assertMasked(text: string, what: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} does not contain ${s}: ${text}`);
}

test('secrets a task prints are masked in its stored log, read by a viewer or straight from the database', async () => {
  await setup();
  await waitForDag(c.t.db, 'sec_prints');
  const run = await triggerDag(c.t.db, 'sec_prints');
  assert.equal(await waitForRunEnd(c.t.db, run.id), 'success');
  for (const task of ['leak', 'shell_leak']) {
    const stored = await c.t.db.query<{ log: string }>(`SELECT a.log FROM task_attempt a JOIN task_instance ti ON ti.attempt_id = a.attempt_id WHERE ti.dag_run_id = $1 AND ti.task_id = $2`, [run.id, task]);
    assertMasked(stored.rows[0]!.log, `the stored log of ${task}`);
    const shown = await viewer.req('GET', `/api/v1/runs/${run.id}/tasks/${task}/logs`);
    assert.equal(shown.status, 200);
    assertMasked(shown.body.content, `the log of ${task} a viewer reads`);
    assert.match(shown.body.content, /\*\*\*/);
  }
  const leak = (await viewer.req('GET', `/api/v1/runs/${run.id}/tasks/leak/logs`)).body.content as string;
  assert.match(leak, /password \*\*\*, token \*\*\*, key \*\*\*, variable \*\*\*/);
  assert.match(leak, /url postgres:\/\/app:\*\*\*@db\.internal\/warehouse, greeting hello-world/, 'a URL-encoded password is masked; other values are not');
});

test('a secret in a task\'s error is masked where the error is stored', async () => {
  await setup();
  const run = await triggerDag(c.t.db, 'sec_throws');
  assert.equal(await waitForRunEnd(c.t.db, run.id), 'failed');
  const r = await c.t.db.query<{ error: string; attempt_error: string; log: string }>(
    `SELECT ti.error, a.error AS attempt_error, a.log FROM task_instance ti JOIN task_attempt a ON a.attempt_id = ti.attempt_id WHERE ti.dag_run_id = $1`, [run.id]);
  const row = r.rows[0]!;
  assert.match(row.error, /could not log in with \*\*\*/);
  for (const text of [row.error, row.attempt_error, row.log]) assertMasked(text, 'the error');
});

test('viewers and ops get sensitive variables and connection extra fields masked; admins see them', async () => {
  await setup();
  for (const client of [viewer, op]) {
    const vars = (await client.req('GET', '/api/v1/variables')).body.variables as { key: string; value: string }[];
    assert.deepEqual(Object.fromEntries(vars.map((v) => [v.key, v.value])), { greeting: 'hello-world', partner_api_key: '***' });
    assert.equal((await client.req('GET', '/api/v1/variables/partner_api_key')).body.value, '***');
    const one = (await client.req('GET', '/api/v1/connections/warehouse')).body;
    assert.deepEqual(one.extra, { region: 'eu-west-1', api_token: '***', nested: { private_key: '***', port: 5432 } });
    assert.equal(one.password, '***');
    const all = (await client.req('GET', '/api/v1/connections')).body.connections;
    assert.deepEqual(all[0].extra, one.extra);
  }
  assert.equal((await c.admin.req('GET', '/api/v1/variables/partner_api_key')).body.value, VARIABLE_VALUE);
  assert.deepEqual((await c.admin.req('GET', '/api/v1/connections/warehouse')).body.extra, EXTRA);
});

test('an op who edits what was shown masked keeps the stored secrets, and changes the rest', async () => {
  await setup();
  const shown = (await op.req('GET', '/api/v1/connections/warehouse')).body;
  const edit = await op.req('PUT', '/api/v1/connections/warehouse', { connType: 'postgres', host: 'db2.internal', keepPassword: true, extra: { ...shown.extra, region: 'eu-north-1' } });
  assert.equal(edit.status, 200);
  assert.equal(edit.body.extra.api_token, '***', 'the answer to an op is masked too');
  assert.deepEqual((await c.admin.req('GET', '/api/v1/connections/warehouse')).body.extra, { ...EXTRA, region: 'eu-north-1' });
  const v = await op.req('PUT', '/api/v1/variables/partner_api_key', { value: '***', description: 'edited by an op' });
  assert.deepEqual([v.status, v.body.value], [200, '***']);
  const stored = (await c.admin.req('GET', '/api/v1/variables/partner_api_key')).body;
  assert.deepEqual([stored.value, stored.description], [VARIABLE_VALUE, 'edited by an op']);
  assert.equal((await op.req('PUT', '/api/v1/variables/partner_api_key', { value: 'a-new-secret-value' })).status, 200);
  assert.equal((await c.admin.req('GET', '/api/v1/variables/partner_api_key')).body.value, 'a-new-secret-value', 'an op may still replace a secret');
});
