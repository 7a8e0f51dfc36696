// The runner watchdog (src/fencing/INVARIANTS.md, "runner watchdog"): a worker frozen with a
// running attempt (SIGSTOP) can neither renew the lease nor fence itself, so the runner
// process that runs the attempt must end it on its own before the lease expires and a
// scheduler starts the task again. After the thaw, the worker's report of the attempt is a
// late write: rejected and recorded, with the runner's notice in the attempt's log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { endedByWatchdog } from '../../src/fencing/watchdog.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, type TestCluster } from '../support/cluster.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/ha-dags/', import.meta.url));
const LEASE_SEC = 3;
let t: TestDatabase;
let cluster: TestCluster;
const started: KeelProcess[] = [];

before(async () => {
  t = await freshDatabase();
  cluster = await startRoles(testOptions(t.url, DAGS), ['dag-processor', 'scheduler']);
  await waitForDag(t.db, 'ha_sleep');
});
after(async () => {
  for (const p of started) if (p.child.signalCode === null && p.child.exitCode === null) p.child.kill('SIGCONT');
  await killAll(started);
  await cluster?.stop();
  await t?.drop();
});

/** Gone, or a zombie its frozen parent cannot reap: either way it runs nothing. */
function processGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

test('a frozen worker\'s runner ends the attempt before its lease expires; the thawed worker\'s report is rejected', async () => {
  const worker = spawnKeel(['worker'], {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_WORKER_CONCURRENCY: '1', KEEL_WORKER_POLL_MS: '200',
    KEEL_ATTEMPT_LEASE_SEC: String(LEASE_SEC), KEEL_DB_OUTAGE_GRACE_SEC: '0',
  });
  started.push(worker);
  const run = await triggerDag(t.db, 'ha_sleep', { params: { ms: 60_000 } });
  // The task logs its runner's pid; the log reaches the database within a second.
  const { attemptId, runnerPid } = await waitFor('the attempt to run and log its runner pid', async () => {
    const row = (await t.db.query<{ attempt_id: string; log: string }>(
      `SELECT a.attempt_id, a.log FROM task_attempt a JOIN task_instance ti ON ti.attempt_id = a.attempt_id WHERE ti.dag_run_id = $1 AND ti.state = 'running'`, [run.id])).rows[0];
    const pid = row && /pid (\d+) attempt/.exec(row.log)?.[1];
    return pid ? { attemptId: row.attempt_id, runnerPid: Number(pid) } : null;
  }, 30000);
  assert.equal(processGone(runnerPid), false, 'the runner runs the attempt');

  worker.child.kill('SIGSTOP');
  // No renewal can happen any more: the lease's end is fixed (read it on the database clock).
  await new Promise((r) => setTimeout(r, 300));
  const lease = (await t.db.query<{ left_ms: number }>(
    `SELECT extract(epoch FROM lease_expires_at - now()) * 1000 AS left_ms FROM task_instance WHERE attempt_id = $1`, [attemptId])).rows[0]!;
  const expiresAt = Date.now() + Number(lease.left_ms);
  await waitFor('the runner to end the attempt', async () => processGone(runnerPid), LEASE_SEC * 2000, 20);
  const marginMs = expiresAt - Date.now();
  console.log(`# frozen worker: its runner ended the attempt ${Math.round(marginMs)} ms before the lease expired`);
  assert.ok(marginMs > 0, `the runner ended the attempt before its lease expired (margin ${Math.round(marginMs)} ms)`);

  // The lease expires; a scheduler fences the attempt. Then the worker thaws and reports.
  await waitFor('the attempt to be fenced', async () =>
    (await t.db.query(`SELECT 1 FROM ha_event WHERE kind = 'zombie_fenced' AND details ->> 'attemptId' = $1`, [attemptId])).rowCount, 20000);
  worker.child.kill('SIGCONT');
  await waitFor('the thawed worker\'s report to be rejected', async () =>
    (await t.db.query(`SELECT 1 FROM ha_event WHERE kind = 'late_write_rejected' AND details ->> 'attemptId' = $1`, [attemptId])).rowCount, 20000);
  const record = (await t.db.query<{ state: string; log: string }>('SELECT state, log FROM task_attempt WHERE attempt_id = $1', [attemptId])).rows[0]!;
  assert.equal(record.state, 'fenced');
  // The runner's own notice; the reason reported after it is the watchdog's, or the thawed
  // worker's self-fencing when its renewal timer fires before it sees the runner's exit.
  assert.ok(endedByWatchdog(record.log), `the attempt's log has the watchdog's notice:\n${record.log}`);
});
