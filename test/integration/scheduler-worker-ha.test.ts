// HA behaviour with real processes: a killed worker's attempt moves to another worker in
// about a second, a killed scheduler is marked dead and its duties go on, SIGTERM drains,
// health probes and `keel health` tell the truth.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { triggerDag } from '../../src/runs/manual-run.js';
import { QUEUE_LOCK_KEY } from '../../src/scheduler/scheduler.js';
import { Database } from '../../src/db/database.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, waitForRunEnd } from '../support/cluster.js';
import { KEEL_BIN, killAll, spawnKeel, type KeelProcess } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/ha-dags/', import.meta.url));
let t: TestDatabase;
const started: KeelProcess[] = [];

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_WORKER_CONCURRENCY: '1', KEEL_DB_OUTAGE_GRACE_SEC: '0',
    KEEL_SCHEDULER_LOOP_MS: '200', KEEL_WORKER_POLL_MS: '200', ...extra,
  };
}
function keel(args: string[], extra: Record<string, string> = {}): KeelProcess {
  const p = spawnKeel(args, env(extra));
  started.push(p);
  return p;
}
async function componentOf(pid: number): Promise<string> {
  return waitFor(`process ${pid} to register`, async () => (await t.db.query<{ id: string }>(`SELECT id FROM component WHERE pid = $1 AND state = 'running'`, [pid])).rows[0]?.id);
}
function keelCli(args: string[]) {
  return spawnSync(process.execPath, [KEEL_BIN, ...args], { env: { ...process.env, ...env() }, encoding: 'utf8' });
}

before(async () => {
  t = await freshDatabase();
  keel(['dag-processor']);
  await waitForDag(t.db, 'ha_sleep', 30000);
});
after(async () => {
  await killAll(started);
  await t?.drop();
});

test('kill -9 of a worker: its attempt is fenced and starts again on another worker in seconds', async () => {
  keel(['scheduler']);
  // Both workers are up before the run exists: whichever takes the attempt is killed while
  // it runs, however slow the machine is to start a process.
  const workers = [keel(['worker']), keel(['worker'])];
  const ids = [await componentOf(workers[0]!.child.pid!), await componentOf(workers[1]!.child.pid!)];
  const run = await triggerDag(t.db, 'ha_sleep', { params: { ms: 4000 } });
  const { attempt_id: attempt, worker_id: victimId } = await waitFor('the attempt to start', async () =>
    (await t.db.query<{ attempt_id: string; worker_id: string }>(`SELECT attempt_id, worker_id FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [run.id])).rows[0]);
  const survivorId = ids.find((id) => id !== victimId)!;
  const killedAt = Date.now();
  workers[ids.indexOf(victimId)]!.child.kill('SIGKILL');
  const next = await waitFor('a new attempt on the other worker', async () =>
    (await t.db.query<{ started_at: Date; try_number: number }>(`SELECT started_at, try_number FROM task_instance WHERE dag_run_id = $1 AND state = 'running' AND worker_id = $2`, [run.id, survivorId])).rows[0], 30000, 20);
  const recoveredMs = Date.now() - killedAt;
  console.log(`# worker killed → attempt running again on another worker: ${recoveredMs} ms`);
  assert.equal(next.try_number, 2);
  const fenced = await t.db.query(`SELECT details FROM ha_event WHERE kind = 'zombie_fenced' AND details ->> 'attemptId' = $1`, [attempt]);
  assert.equal(fenced.rows[0]?.details.reason, 'worker_gone', 'fenced by the dead-worker path, not by lease expiry');
  assert.ok(recoveredMs < 20_000, 'taken over long before the 45 s lease could expire');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const attempts = await t.db.query<{ state: string }>(`SELECT a.state FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1 ORDER BY a.started_at`, [run.id]);
  assert.deepEqual(attempts.rows.map((r) => r.state), ['fenced', 'success']);
});

test('kill -9 of a scheduler: it is marked dead, the other scheduler carries on, keel health tells', async () => {
  const sched = started.filter((p) => p.output() !== undefined && p.child.spawnargs.includes('scheduler'));
  const victim = sched[0]!;
  const victimId = await componentOf(victim.child.pid!);
  victim.child.kill('SIGKILL');
  await victim.exited;
  await waitFor('the killed scheduler to be marked dead', async () => {
    if (!started.some((p) => p.child.spawnargs.includes('scheduler') && p.child.exitCode === null && p.child.signalCode === null)) {
      // No scheduler left alive until the dead one is detected: start a peer to detect it.
      keel(['scheduler']);
    }
    return (await t.db.query(`SELECT 1 FROM component WHERE id = $1 AND state = 'dead'`, [victimId])).rowCount;
  }, 30000, 200);
  const event = await t.db.query(`SELECT details FROM ha_event WHERE kind = 'component_dead' AND component_id = $1`, [victimId]);
  assert.equal(event.rows[0]?.details.role, 'scheduler');
  const run = await triggerDag(t.db, 'ha_sleep', { params: { ms: 10 } });
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const health = keelCli(['health', '--role', 'scheduler']);
  assert.equal(health.status, 0, health.stdout + health.stderr);
  const noTriggerer = keelCli(['health', '--role', 'triggerer']);
  assert.equal(noTriggerer.status, 1);
  assert.match(noTriggerer.stdout, /no healthy triggerer/);
});

test('SIGTERM drains a worker: the running attempt finishes, then the process exits 0', async () => {
  const worker = keel(['worker'], { KEEL_WORKER_SHUTDOWN_GRACE_SEC: '20' });
  const id = await componentOf(worker.child.pid!);
  for (const p of started) if (p !== worker && p.child.spawnargs.includes('worker') && p.child.exitCode === null) p.child.kill('SIGKILL');
  const run = await triggerDag(t.db, 'ha_sleep', { params: { ms: 1500 } });
  await waitFor('the attempt to run on the draining worker', async () => (await t.db.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND worker_id = $2 AND state = 'running'`, [run.id, id])).rowCount);
  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0);
  const ti = await t.db.query<{ state: string; try_number: number }>(`SELECT state, try_number FROM task_instance WHERE dag_run_id = $1`, [run.id]);
  assert.deepEqual(ti.rows[0], { state: 'success', try_number: 1 });
  const comp = await t.db.query<{ state: string }>(`SELECT state FROM component WHERE id = $1`, [id]);
  assert.equal(comp.rows[0]?.state, 'stopped');
});

test('a copy frozen inside the queueing critical section holds it only until the idle-transaction limit', async () => {
  keel(['worker']);
  const frozenCopy = new Database(t.url, { size: 1, applicationName: 'keel-frozen-copy', transactionIdleTimeoutMs: 1500 });
  const startedAt = Date.now();
  let locked = false;
  const frozen = frozenCopy.inTransaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [QUEUE_LOCK_KEY]);
    locked = true;
    // Issue nothing more, like a process stopped mid-transaction; the server ends the session.
    await new Promise<void>((resolve) => { tx.once('error', () => resolve()); tx.once('end', () => resolve()); setTimeout(resolve, 60_000).unref(); });
    return Date.now() - startedAt;
  }, { maxElapsedMs: 0 }).catch((err: Error) => err);
  await waitFor('the frozen copy to hold the queueing lock', async () => locked, 10000, 5);
  const run = await triggerDag(t.db, 'ha_sleep', { params: { ms: 10 } });
  assert.equal(await waitForRunEnd(t.db, run.id, 30000), 'success');
  const outcome = await frozen;
  assert.ok(outcome instanceof Error || outcome < 10_000, `the frozen transaction was ended by the server (${outcome})`);
  await frozenCopy.close();
});

test('a running attempt\'s log can be followed before it ends', async () => {
  keel(['worker']);
  const run = await triggerDag(t.db, 'ha_sleep', { params: { ms: 4000 } });
  const log = await waitFor('log lines of the running attempt', async () => (await t.db.query<{ log: string }>(
    `SELECT a.log FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1 AND a.state = 'running' AND a.log <> ''`, [run.id])).rows[0]?.log, 20000, 100);
  assert.match(log, /attempt [0-9a-f-]{36}/);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const final = await t.db.query<{ log: string }>(`SELECT a.log FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1`, [run.id]);
  assert.equal((final.rows[0]!.log.match(/attempt [0-9a-f-]{36}/g) ?? []).length, 2, 'the stored log holds each line once (the header and the task line), not the flushed chunk twice');
});

test('health server: live and ready while running, metrics include HA events', async () => {
  const cluster = await startRoles(testOptions(t.url, DAGS, { healthPort: 0 }), ['scheduler']);
  try {
    const port = cluster.roles[0]!.healthPort!;
    await waitFor('a loop turn', async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).status === 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/health/ready`)).status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /keel_ha_events_total\{kind="zombie_fenced"\} [1-9]/);
    assert.match(metrics, /keel_loop_duration_seconds_count\{role="scheduler"\} [1-9]/);
    assert.match(metrics, /^keel_loop_turns_total\{role="scheduler"\} [1-9]\d*$/m);
  } finally {
    await cluster.stop();
  }
});
