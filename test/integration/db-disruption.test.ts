// The database goes away under a running cluster: a server restart, then every backend
// terminated. Nothing may die: no process exits, no running task is killed or fenced
// just because the database disappeared for a few seconds, and work goes on after.
// This file runs its own embedded server, since it restarts it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';
import { freePort } from '../../src/free-port.js';
import { migrate } from '../../src/db/migrate.js';
import { Database } from '../../src/db/database.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { startRoles, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/ha-dags/', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'keel-disruption-'));
let server: EmbeddedServer;
let db: Database;
let cluster: TestCluster;

let port: number;

before(async () => {
  port = await freePort();
  server = await startEmbedded({ dataDir, port, durable: false });
  db = new Database(server.url, { size: 3, applicationName: 'keel-test' });
  await migrate(db);
  cluster = await startRoles(testOptions(server.url, DAGS, {
    attemptLeaseSec: 20, dbOutageGraceSec: 5, heartbeatMs: 300, workerLostAfterSec: 1, orphanSweepMs: 200, dbQueryTimeoutMs: 2000, healthPort: 0,
  }), ['dag-processor', 'scheduler', 'worker']);
  await waitForDag(db, 'ha_sleep');
});
after(async () => {
  await cluster?.stop();
  await db?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function runningAttempt(runId: string): Promise<string> {
  return waitFor('the attempt to run', async () => (await db.query<{ attempt_id: string }>(`SELECT attempt_id FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [runId])).rows[0]?.attempt_id);
}

test('a database restart neither kills nor fences a running task', async () => {
  const run = await triggerDag(db, 'ha_sleep', { params: { ms: 9000 } });
  const attempt = await runningAttempt(run.id);
  await new Promise((r) => setTimeout(r, 1000));
  await server.stop();
  await new Promise((r) => setTimeout(r, 3000)); // every session lock is gone, every heartbeat goes stale
  server = await startEmbedded({ dataDir, port, durable: false });
  assert.equal(await waitForRunEnd(db, run.id, 40000), 'success');
  const ti = await db.query<{ try_number: number; attempt_id: string }>(`SELECT try_number, attempt_id FROM task_instance WHERE dag_run_id = $1`, [run.id]);
  assert.deepEqual(ti.rows[0], { try_number: 1, attempt_id: attempt }, 'the first attempt finished: nobody fenced or killed it');
  const fenced = await db.query(`SELECT 1 FROM ha_event WHERE kind = 'zombie_fenced'`);
  assert.equal(fenced.rowCount, 0);
  const seen = await db.query(`SELECT 1 FROM ha_event WHERE kind = 'failover_detected'`);
  assert.ok((seen.rowCount ?? 0) > 0, 'the reconnect was recorded as a disruption');
  const dead = await db.query(`SELECT 1 FROM ha_event WHERE kind = 'component_dead'`);
  assert.equal(dead.rowCount, 0, 'no component was declared dead because of the outage');
  // The process saw the outage end, and how long it was without its database (3 s and more).
  const metrics = await (await fetch(`http://127.0.0.1:${cluster.roles[0]!.healthPort}/metrics`)).text();
  assert.match(metrics, /^keel_db_reachable 1$/m);
  assert.match(metrics, /^keel_db_outages_total [1-9]\d*$/m);
  const lasted = Number(/^keel_db_unreachable_seconds_total (\S+)$/m.exec(metrics)?.[1]);
  assert.ok(lasted >= 2, `the process was without its database for ${lasted} s in all`);
});

test('terminating every backend kills no process and loses no work', async () => {
  const run = await triggerDag(db, 'ha_sleep', { params: { ms: 3000 } });
  await runningAttempt(run.id);
  const killed = await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'keel-%' AND pid <> pg_backend_pid() AND application_name <> 'keel-test'`);
  assert.ok((killed.rowCount ?? 0) >= 3, 'the cluster had sessions to cut');
  assert.equal(await waitForRunEnd(db, run.id, 40000), 'success');
  const after = await triggerDag(db, 'ha_sleep', { params: { ms: 10 } });
  assert.equal(await waitForRunEnd(db, after.id, 20000), 'success', 'the cluster still schedules and runs work');
  const ti = await db.query<{ try_number: number }>(`SELECT try_number FROM task_instance WHERE dag_run_id = $1`, [run.id]);
  assert.equal(ti.rows[0]?.try_number, 1);
});
