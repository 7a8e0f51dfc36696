// The outage grace covers a promotion, on a real primary and pg_basebackup standby: right
// after the standby is promoted, every worker's session lock is missing there, and its
// keel_cluster row (a copy of the old primary's) names an old disruption. Fencing must not
// act on that: it waits until a reconnecting component records the disruption on the new
// timeline, and then for dbOutageGraceSec. Before migration 0009 a promoted replica fenced
// the attempts of live workers (found by test/cluster/failover.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { Database } from '../../src/db/database.js';
import { recordDisruption } from '../../src/fencing/disruption.js';
import { startPair, type PgPair } from '../support/pg-pair.js';
import { waitFor } from '../support/cluster.js';

let pair: PgPair;
let primary: Database;
let standby: Database;

before(async () => {
  pair = await startPair();
  const admin = new pg.Client({ connectionString: pair.primary.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE keel');
  await admin.end();
  primary = new Database(pair.primary.url('keel'), { size: 2, applicationName: 'keel-test' });
  await migrate(primary);
  // Long enough ago that the grace (0 s here) is not what holds fencing back.
  await primary.query(`UPDATE keel_cluster SET last_disruption_at = now() - interval '1 hour'`);
  standby = new Database(pair.standby.url('keel'), { size: 2, applicationName: 'keel-test' });
  await waitFor('the standby to replay the migration', async () =>
    (await standby.query(`SELECT 1 FROM keel_cluster WHERE last_disruption_at < now() - interval '30 minutes'`).catch(() => ({ rowCount: 0 }))).rowCount);
});
after(async () => {
  await primary?.close();
  await standby?.close();
  await pair?.stop();
});

const allowed = async (db: Database, graceSec = 0) => (await db.query<{ ok: boolean }>('SELECT keel_fencing_allowed($1) AS ok', [graceSec])).rows[0]!.ok;
const timeline = async (db: Database) => (await db.query<{ t: number }>('SELECT keel_current_timeline() AS t')).rows[0]!.t;

test('fencing waits on a promoted replica until the disruption is recorded on its timeline, then for the grace', async () => {
  assert.equal(await allowed(primary), true, 'the primary fences normally');
  const before = await timeline(primary);
  pair.promote();
  assert.equal(await timeline(standby), before + 1, 'the promoted standby writes on the next timeline at once');
  assert.equal(await allowed(standby), false, 'no fencing on a timeline nobody has recorded');

  // A component's session reconnects to the new primary and records the disruption.
  const client = new pg.Client({ connectionString: pair.standby.url('keel') });
  await client.connect();
  try {
    await recordDisruption(client, null, 'test: session reconnected');
  } finally {
    await client.end();
  }
  assert.equal(await allowed(standby, 3600), false, 'within the grace after the recorded disruption');
  assert.equal(await allowed(standby, 0), true, 'after the grace');
  assert.equal((await standby.query<{ timeline: number }>('SELECT timeline FROM keel_cluster')).rows[0]!.timeline, before + 1);
});
