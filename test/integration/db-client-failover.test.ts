// The client half of database failover on real servers without Patroni: a primary and a
// pg_basebackup standby (Debian's PostgreSQL 15). Multi-host URLs find the writable host;
// a COMMIT whose answer is lost neither creates a second manual run nor is blindly
// retried where it could apply twice; and after the standby is promoted while the old
// primary stays up and writable (what a killed Patroni leaves), a component whose session
// is on the old primary finds itself unfit, records it on the new primary, and the pools
// move to the new primary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Database } from '../../src/db/database.js';
import { CommitOutcomeUnknownError } from '../../src/db/retry.js';
import { Listener } from '../../src/db/listener.js';
import { ComponentSession, type PrimaryCheck } from '../../src/ha/session.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { startRoles, testLog, testOptions, waitFor, waitForDag } from '../support/cluster.js';
import { migratedKeelDatabase, startPair, startProxy, type PgPair } from '../support/pg-pair.js';
import { freePort } from '../support/tools.js';
import { spawnSync } from 'node:child_process';
import { readDatabaseStatus } from '../../src/ha/db-status.js';
import { KeelMetrics } from '../../src/observability/metrics.js';
import { KEEL_BIN } from '../support/processes.js';
import { ReadRouter } from '../../src/db/read-router.js';

const DAGS = fileURLToPath(new URL('../fixtures/dags/', import.meta.url));
const HA_DAGS = fileURLToPath(new URL('../fixtures/ha-dags/', import.meta.url));
let pair: PgPair;
let primaryDb: Database;

before(async () => {
  pair = await startPair();
  primaryDb = await migratedKeelDatabase(pair);
  const processor = await startRoles(testOptions(pair.primary.url('keel'), DAGS), ['dag-processor']);
  await waitForDag(primaryDb, 't_chain');
  await processor.stop();
});
after(async () => {
  await primaryDb?.close();
  await pair?.stop();
});

const portOf = async (db: Database) => db.inTransaction(async (tx) => (await tx.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]!.port);

test('a multi-host URL with target_session_attrs=read-write skips a refused port and a standby', async () => {
  const refused = await freePort();
  const url = `postgres://postgres@127.0.0.1:${refused},127.0.0.1:${pair.standby.port},127.0.0.1:${pair.primary.port}/keel?target_session_attrs=read-write`;
  const db = new Database(url, { size: 2, applicationName: 'keel-test-multi' });
  try {
    assert.equal(await portOf(db), pair.primary.port);
    // LISTEN goes through the same chooser.
    const got: string[] = [];
    const listener = new Listener(db, ['keel_scheduler'], (_c, payload) => got.push(payload));
    await listener.start();
    await db.query(`SELECT pg_notify('keel_scheduler', 'hello')`);
    await waitFor('the notification', async () => got.includes('hello'), 5000);
    await listener.stop();
  } finally {
    await db.close();
  }
});

test('a lost COMMIT answer: a blind retry applies twice; a manual trigger retried does not; a clear is not retried', async () => {
  const proxy = await startProxy(pair.primary.port);
  const db = new Database(`postgres://postgres@127.0.0.1:${proxy.port}/keel`, { size: 2, applicationName: 'keel-test-proxy' });
  try {
    // The hazard is real: a non-idempotent insert retried after its COMMIT's answer was lost.
    await db.query('CREATE TABLE IF NOT EXISTS blind (id serial PRIMARY KEY)');
    proxy.loseNextCommitAnswer();
    await db.inTransaction((tx) => tx.query('INSERT INTO blind DEFAULT VALUES'));
    assert.equal((await primaryDb.query('SELECT count(*)::int AS n FROM blind')).rows[0].n, 2, 'the blind retry applied twice');

    // A manual trigger carries a client-made key: the retry finds the run the first try committed.
    const before = (await primaryDb.query(`SELECT count(*)::int AS n FROM dag_run WHERE dag_id = 't_chain'`)).rows[0].n;
    proxy.loseNextCommitAnswer();
    const run = await triggerDag(db, 't_chain');
    const runs = (await primaryDb.query<{ id: string }>(`SELECT id FROM dag_run WHERE dag_id = 't_chain'`)).rows;
    assert.equal(runs.length, before + 1, 'exactly one run');
    assert.ok(runs.some((r) => r.id === run.id));

    // Not idempotent and not retried: the caller learns that the outcome is unknown.
    proxy.loseNextCommitAnswer();
    await assert.rejects(db.inTransaction((tx) => tx.query('INSERT INTO blind DEFAULT VALUES'), { idempotent: false, what: 'the test insert' }), CommitOutcomeUnknownError);
    assert.equal((await primaryDb.query('SELECT count(*)::int AS n FROM blind')).rows[0].n, 3, 'applied once, not retried');
  } finally {
    await db.close();
    await proxy.stop();
  }
});

test('a claim whose answer was lost is handed back at once and runs, instead of being fenced when its lease runs out', async () => {
  const proxy = await startProxy(pair.primary.port);
  const direct = pair.primary.url('keel');
  const scheduler = await startRoles(testOptions(direct, DAGS, { attemptLeaseSec: 120 }), ['scheduler']);
  let worker: Awaited<ReturnType<typeof startRoles>> | null = null;
  try {
    const run = await triggerDag(primaryDb, 't_chain');
    const first = await waitFor('the first task to be queued', async () => (await primaryDb.query<{ id: string }>(`SELECT id FROM task_instance WHERE dag_run_id = $1 AND state = 'queued'`, [run.id])).rows[0]?.id, 20000);
    // The worker's first claim commits, and its answer never reaches the worker.
    proxy.loseNextAnswerTo('INSERT INTO task_attempt (attempt_id, task_instance_id');
    worker = await startRoles(testOptions(`postgres://postgres@127.0.0.1:${proxy.port}/keel`, DAGS, { sessionDatabaseUrl: direct, attemptLeaseSec: 120 }), ['worker']);
    // Well inside the 120 s lease: only the hand-back can have freed it.
    const attempts = await waitFor('the first task to succeed', async () => {
      const rows = (await primaryDb.query<{ state: string; try_number: number; error: string | null }>(
        'SELECT state, try_number, error FROM task_attempt WHERE task_instance_id = $1 ORDER BY started_at', [first])).rows;
      return rows.some((a) => a.state === 'success') ? rows : undefined;
    }, 30000);
    assert.deepEqual(attempts.map((a) => a.state), ['handed_back', 'success']);
    assert.match(attempts[0]!.error ?? '', /never received the claim/);
    assert.deepEqual(attempts.map((a) => a.try_number), [1, 1], 'the lost claim did not count as a try');
  } finally {
    await worker?.stop();
    await scheduler.stop();
    await proxy.stop();
  }
});

test('a claimed task whose DAG version could not be read (the connection dropped right after the claim) still runs, instead of waiting out its lease', async () => {
  const proxy = await startProxy(pair.primary.port);
  const direct = pair.primary.url('keel');
  const scheduler = await startRoles(testOptions(direct, DAGS, { attemptLeaseSec: 120 }), ['scheduler']);
  let worker: Awaited<ReturnType<typeof startRoles>> | null = null;
  try {
    const run = await triggerDag(primaryDb, 't_chain');
    const first = await waitFor('the first task to be queued', async () => (await primaryDb.query<{ id: string }>(`SELECT id FROM task_instance WHERE dag_run_id = $1 AND state = 'queued'`, [run.id])).rows[0]?.id, 20000);
    // A fresh worker reads the claimed task's DAG version; that read's answer is lost.
    proxy.loseNextAnswerTo('AS k (dag_id, version_hash) USING (dag_id, version_hash)');
    worker = await startRoles(testOptions(`postgres://postgres@127.0.0.1:${proxy.port}/keel`, DAGS, { sessionDatabaseUrl: direct, attemptLeaseSec: 120 }), ['worker']);
    // Well inside the 120 s lease: a claim dropped on the floor would wait it out and be fenced.
    const attempts = await waitFor('the first task to succeed', async () => {
      const rows = (await primaryDb.query<{ state: string }>('SELECT state FROM task_attempt WHERE task_instance_id = $1 ORDER BY started_at', [first])).rows;
      return rows.some((a) => a.state === 'success') ? rows : undefined;
    }, 30000);
    assert.deepEqual(attempts.map((a) => a.state), ['success'], 'one attempt, run by the worker that claimed it');
  } finally {
    await worker?.stop();
    await scheduler.stop();
    await proxy.stop();
  }
});

test('a lease renewal that hangs (as in PgBouncer\'s queue during a failover) is given up, and the next one renews before the self-fencing deadline', async () => {
  const proxy = await startProxy(pair.primary.port);
  const direct = pair.primary.url('keel');
  // A 6 s lease: renewals every 2 s, each given up after 1.6 s, self-fencing after 4.8 s
  // without one; a renewal left to the 10 s statement limit would fence the attempt.
  const fleet = await startRoles(testOptions(direct, HA_DAGS, { attemptLeaseSec: 6 }), ['dag-processor', 'scheduler']);
  let worker: Awaited<ReturnType<typeof startRoles>> | null = null;
  try {
    await waitForDag(primaryDb, 'ha_sleep');
    worker = await startRoles(testOptions(`postgres://postgres@127.0.0.1:${proxy.port}/keel`, HA_DAGS, { sessionDatabaseUrl: direct, attemptLeaseSec: 6 }), ['worker']);
    const run = await triggerDag(primaryDb, 'ha_sleep', { params: { ms: 9000 } });
    await waitFor('the task to run', async () => (await primaryDb.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [run.id])).rowCount, 20000);
    proxy.stallNextAnswerTo('UPDATE task_instance SET lease_expires_at');
    const attempts = await waitFor('the task to end', async () => {
      const rows = (await primaryDb.query<{ state: string; error: string | null }>(
        `SELECT a.state, a.error FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1 ORDER BY a.started_at`, [run.id])).rows;
      return rows.some((a) => a.state !== 'running') ? rows : undefined;
    }, 30000);
    assert.deepEqual(attempts.map((a) => a.state), ['success'], `one attempt, never self-fenced: ${JSON.stringify(attempts)}`);
  } finally {
    await worker?.stop();
    await fleet.stop();
    await proxy.stop();
  }
});

test('visibility: role, timeline, system identifier and each replica with its lag, in the status, the metrics and keel ha status', async () => {
  await waitFor('the standby to stream', async () => (await primaryDb.query(`SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'`)).rowCount, 10000);
  const status = await readDatabaseStatus(primaryDb, { events: 5 });
  assert.equal(status.role, 'primary');
  assert.equal(status.timeline, 1);
  assert.match(status.systemId, /^\d+$/);
  assert.equal(status.replicas.length, 1);
  assert.equal(status.replicas[0]!.state, 'streaming');
  assert.equal(typeof status.replicas[0]!.replay_lag_bytes, 'number');
  const metrics = await new KeelMetrics(primaryDb).registry.metrics();
  assert.match(metrics, /keel_db_timeline 1/);
  assert.match(metrics, /keel_db_replica_lag_bytes\{replica="[^"]+",sync_state="async"\} \d+/);
  const cli = spawnSync(process.execPath, [KEEL_BIN, 'ha', 'status'], { env: { ...process.env, KEEL_DATABASE_URL: pair.primary.url('keel'), KEEL_LOG_LEVEL: 'warn' }, encoding: 'utf8', timeout: 60000 });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /server 127\.0\.0\.1:\d+, primary, timeline 1, system identifier \d+/);
  assert.match(cli.stdout, /replica \S+ \(127\.0\.0\.1\): streaming, async, replay lag \d+ bytes/);
});

test('read router: heavy reads go to the replica while its lag is under the bound, to the primary when replay stops', async () => {
  const replica = new Database(pair.standby.url('keel'), { size: 2, applicationName: 'keel-test-replica' });
  const router = new ReadRouter(primaryDb, replica, { maxLagMs: 500, checkEveryMs: 100 });
  const served = async () => (await router.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]!.port;
  try {
    await router.start();
    await waitFor('the replica route', async () => router.route.use === 'replica', 5000);
    assert.equal(await served(), pair.standby.port);
    await replica.query('SELECT pg_wal_replay_pause()');
    // Writes the replica does not replay: its lag grows past the bound.
    const writes = setInterval(() => void primaryDb.query(`INSERT INTO ha_event (kind) VALUES ('test_write')`).catch(() => {}), 50);
    try {
      await waitFor('the router to fall back to the primary', async () => router.route.use === 'primary', 10000);
      assert.match(router.route.reason, /over replicaMaxLagMs 500/);
      assert.equal(await served(), pair.primary.port);
    } finally {
      clearInterval(writes);
      await replica.query('SELECT pg_wal_replay_resume()');
    }
    await waitFor('the replica route again', async () => router.route.use === 'replica', 10000);
    const stats = router.stats();
    assert.ok(stats.servedByReplica >= 1 && stats.servedByPrimary >= 1);
  } finally {
    router.stop();
    await replica.close();
  }
});

test('split brain: the standby is promoted while the old primary stays writable; a session on the old primary is unfit, pools move', async () => {
  const route = `postgres://postgres@127.0.0.1:${pair.standby.port},127.0.0.1:${pair.primary.port}/keel?target_session_attrs=read-write`;
  // As in a component: the session on the old primary (a direct URL), the pools through the route.
  const db = new Database(route, { size: 2, applicationName: 'keel-test-route', sessionUrl: pair.primary.url('keel') });
  const session = new ComponentSession(db, 'worker', { heartbeatMs: 200, queryTimeoutMs: 3000, primaryCheckMs: 300 }, testLog());
  const fitness: (string | null)[] = [];
  session.onFitness = (reason) => fitness.push(reason);
  // A whole fleet whose sessions are on the old primary (direct URL) and whose pools use the route.
  const fleet = await startRoles(testOptions(route, HA_DAGS, {
    sessionDatabaseUrl: pair.primary.url('keel'), dbPrimaryCheckMs: 300, heartbeatMs: 200, attemptLeaseSec: 6,
  }), ['dag-processor', 'scheduler', 'worker']);
  try {
    await waitForDag(primaryDb, 'ha_sleep');
    const run = await triggerDag(primaryDb, 'ha_sleep', { params: { ms: 120000 } });
    await waitFor('the sleep task to run', async () => (await primaryDb.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [run.id])).rowCount, 20000);
    await session.start();
    assert.equal(session.unfitReason, null);
    assert.equal(session.lastPrimaryCheck?.verdict.fit, true);
    assert.equal(await portOf(db), pair.primary.port);
    const timeline = session.lastPrimaryCheck!.mine.timeline;

    pair.promote();
    // Both servers now accept writes; the new one is on the next timeline.
    const reason = await waitFor('the session to find itself on the old primary', async () => session.unfitReason, 15000);
    assert.match(reason, /^isolated_primary: .*timeline/);
    assert.equal(session.lastPrimaryCheck!.route!.timeline, timeline + 1);
    assert.equal(await portOf(db), pair.standby.port, 'the pool moved to the new primary');

    const newPrimary = new Database(pair.standby.url('keel'), { size: 1, applicationName: 'keel-test-new' });
    try {
      const kinds = (await newPrimary.query<{ kind: string }>(`SELECT kind FROM ha_event WHERE kind IN ('db_isolated_primary', 'db_primary_changed') AND component_id = $1`, [session.id])).rows.map((r) => r.kind);
      assert.ok(kinds.includes('db_isolated_primary'), `events on the new primary: ${kinds.join(', ')}`);
      // Recorded once, by whichever component saw the new primary first.
      assert.equal((await newPrimary.query(`SELECT 1 FROM ha_event WHERE kind = 'db_primary_changed'`)).rowCount, 1);
    } finally {
      await newPrimary.close();
    }
    // Its session reconnects to the same old primary (a direct URL): three checks later
    // (as many as 1 s gives at its 0.3 s interval), it is still unfit.
    const checks = new Set<PrimaryCheck | null>([session.lastPrimaryCheck]);
    await waitFor('three more primary checks', async () => checks.add(session.lastPrimaryCheck).size > 3, 15000, 20);
    assert.match(session.unfitReason ?? '', /^isolated_primary/);
    assert.ok(fitness.length >= 1 && fitness[0]!.startsWith('isolated_primary'));

    // The worker found itself on the old primary: it killed its running attempt (recorded on the new primary).
    const fenced = new Database(pair.standby.url('keel'), { size: 1, applicationName: 'keel-test-new' });
    try {
      // Either the worker's own report (self-fenced) got there first, or a scheduler on the new
      // primary had already fenced the attempt (its worker's session lock is not there) and
      // the worker's report of the killed attempt arrived as a rejected late write.
      const stopped = await waitFor('the worker to stop its attempt', async () => (await fenced.query<{ attempt_id: string; error: string | null; late: boolean }>(
        `SELECT a.attempt_id, a.error, EXISTS (SELECT 1 FROM ha_event e WHERE e.kind = 'late_write_rejected' AND e.details->>'attemptId' = a.attempt_id::text) AS late
         FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id WHERE t.dag_run_id = $1 AND a.state <> 'running'`, [run.id])).rows
        .find((a) => /self-fenced/.test(a.error ?? '') || a.late), 20000);
      assert.ok(stopped.attempt_id);
      // Nothing else ran it: the unfit fleet claimed nothing more.
      assert.equal((await fenced.query(`SELECT 1 FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id WHERE t.dag_run_id = $1`, [run.id])).rowCount, 1);
    } finally {
      await fenced.close();
    }
  } finally {
    await fleet.stop();
    await session.stop();
    await db.close();
  }
});
