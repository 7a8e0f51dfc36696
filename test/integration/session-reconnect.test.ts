// A component session whose reconnect fails half-way — connected and holding its lock,
// then refused (here: the database is read-only for new sessions, as a replica that a load
// balancer still routes to would be) — must not leave that connection behind: it would keep
// the component lock, every later reconnect would find the lock "held by another session",
// and the component would stay away for good and be declared dead (the cluster test's
// switchover caught a dag-processor that never came back).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import pino from 'pino';
import { Database } from '../../src/db/database.js';
import { ComponentSession, COMPONENT_LOCK_CLASS } from '../../src/ha/session.js';
import { freshDatabase, adminUrl, type TestDatabase } from '../support/db.js';
import { directUrlFor, withDatabase } from '../support/db-url.js';
import { waitFor } from '../support/cluster.js';

let t: TestDatabase;
let admin: pg.Client;
let dbName: string;

before(async () => {
  t = await freshDatabase();
  dbName = new URL(directUrlFor(t.url)).pathname.slice(1);
  admin = new pg.Client({ connectionString: withDatabase(adminUrl(), dbName) });
  await admin.connect();
});
after(async () => {
  await admin?.query(`ALTER DATABASE ${dbName} RESET default_transaction_read_only`);
  await admin?.end();
  await t?.drop();
});

test('a reconnect refused after the lock was taken leaves no connection holding the lock, and the session comes back', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const refused = () => lines.filter((l) => (JSON.parse(l) as { msg: string }).msg === 'component session reconnect failed');
  const db = new Database(t.url, { size: 1, applicationName: 'keel-test-session', sessionUrl: directUrlFor(t.url) });
  const session = new ComponentSession(db, 'dag-processor', { heartbeatMs: 100, queryTimeoutMs: 3000, primaryCheckMs: 0 }, log);
  const sessionBackends = async () => (await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'keel-dag-processor-session'`, [dbName])).rows.map((r) => r.pid);
  const lockHolders = async () => (await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted`, [COMPONENT_LOCK_CLASS, session.lockKey])).rows.map((r) => r.pid);
  try {
    await session.start();
    assert.equal(session.ready, true);

    await admin.query(`ALTER DATABASE ${dbName} SET default_transaction_read_only = on`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [await sessionBackends()]);
    // Two refused reconnects: the second would meet the first's lock if that were left open.
    await waitFor('two reconnects refused by the read-only database', async () =>
      refused().length >= 2, 20000);
    assert.equal(session.ready, false);
    // A reconnect in progress holds the lock for a moment before it is refused; one left
    // behind would hold it for good.
    await waitFor('no refused reconnect to keep the component lock', async () => (await lockHolders()).length === 0, 5000);

    await admin.query(`ALTER DATABASE ${dbName} RESET default_transaction_read_only`);
    await waitFor('the session to be back', async () => session.ready, 20000);
    assert.equal((await sessionBackends()).length, 1, 'one session connection, none left behind');
    assert.deepEqual(await lockHolders(), await sessionBackends(), 'the lock is held by the session connection');
    assert.deepEqual(refused().filter((l) => l.includes('held by another session')), [], 'no reconnect found its own lock held');
  } finally {
    await session.stop();
    await db.close();
  }
});
