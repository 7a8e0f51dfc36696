// Graceful degradation: while the database is read-only (here default_transaction_read_only,
// as an operator sets it; a standby behaves the same), the API keeps serving reads to logged-in
// users, refuses every write at once with a 503 that says why (nothing written), and the
// notice says so for the UI's banner; once writable again, writes work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { useApiCluster, ApiClient } from '../support/api.js';
import { adminUrl } from '../support/db.js';
import { waitFor } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/waiting/', import.meta.url));
const c = useApiCluster(DAGS, ['wt_pool'], {}, ['dag-processor', 'api']);

/** Sets the test database read-only or writable for new sessions, and ends the current ones so that every pool reconnects with it. */
async function setReadOnly(on: boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    const name = new URL(c.t.url).pathname.slice(1);
    await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = ${on ? 'on' : 'off'}`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  } finally {
    await admin.end();
  }
}

test('a read-only database: reads served, writes refused with a 503 naming the cause, the notice says so; writable again: writes work', async () => {
  const token = await c.admin.req<{ token: string }>('POST', '/api/v1/auth/tokens', { name: 'ro-test', lifetimeSec: 3600 });
  assert.equal(token.status, 201);
  const bearer = Object.assign(new ApiClient(c.base), { token: token.body.token });

  await setReadOnly(true);
  await waitFor('the notice to say the database is read-only', async () => (await c.admin.req('GET', '/api/v1/notice')).body?.databaseReadOnly === true);
  for (const client of [c.admin, bearer]) {
    const dags = await client.req('GET', '/api/v1/dags');
    assert.equal(dags.status, 200, `reads are served (${client.token ? 'token' : 'session'}): ${JSON.stringify(dags.body)}`);
    assert.ok(dags.body.dags.some((d: { dagId: string }) => d.dagId === 'wt_pool'));
  }
  const trigger = await c.admin.req('POST', '/api/v1/dags/wt_pool/runs', {});
  assert.equal(trigger.status, 503);
  assert.match(trigger.body.message, /^the database is read-only .*: Keel serves reads and refuses writes until it is writable again/);
  assert.equal((await bearer.req('PUT', '/api/v1/pools/warehouse', { slots: 2 })).status, 503);
  const login = await new ApiClient(c.base).login('vic', 'viewer password');
  assert.equal(login.status, 503, 'a log-in writes a session: refused too, with the same reason');

  await setReadOnly(false);
  await waitFor('the notice to say the database is writable', async () => (await c.admin.req('GET', '/api/v1/notice')).body?.databaseReadOnly === false);
  assert.equal((await c.t.db.query(`SELECT 1 FROM pool WHERE name = 'warehouse'`)).rowCount, 0, 'nothing was written while read-only');
  assert.equal((await c.t.db.query(`SELECT 1 FROM dag_run WHERE dag_id = 'wt_pool'`)).rowCount, 0);
  assert.equal((await bearer.req('PUT', '/api/v1/pools/warehouse', { slots: 2 })).status, 200);
  assert.equal((await c.admin.req('POST', '/api/v1/dags/wt_pool/runs', {})).status, 201);
});
