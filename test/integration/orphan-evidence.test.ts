// A scheduler that has just started does not wait out the outage grace (dbOutageGraceSec)
// before it fences a dead worker's attempt, when the evidence shows the worker died rather
// than lost its connection with everyone else (src/fencing/grace.ts orphanProvenGone):
// - both schedulers new, other components' sessions lasting since before the worker's last
//   heartbeat (no disruption cut every session);
// - the whole node restarted: no older session survives, but the worker ran in this pid
//   namespace and its pid is gone.
// Each run would wait the full 15 s grace without the evidence; the test asserts the fence
// came before the new scheduler's grace ended.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { waitFor, waitForDag, waitForRunEnd } from '../support/cluster.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/ha-dags/', import.meta.url));
const GRACE_SEC = 15;
let t: TestDatabase;
const started: KeelProcess[] = [];

function keel(role: string): KeelProcess {
  const p = spawnKeel([role], {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_WORKER_CONCURRENCY: '1', KEEL_DB_OUTAGE_GRACE_SEC: String(GRACE_SEC),
    KEEL_SCHEDULER_LOOP_MS: '200', KEEL_WORKER_POLL_MS: '200',
  });
  started.push(p);
  return p;
}
async function registered(p: KeelProcess): Promise<{ id: string; started_at: Date }> {
  return waitFor(`process ${p.child.pid} to register`, async () =>
    (await t.db.query<{ id: string; started_at: Date }>(`SELECT id, started_at FROM component WHERE pid = $1 AND state = 'running'`, [p.child.pid])).rows[0], 30000);
}
async function kill(...ps: KeelProcess[]): Promise<void> {
  for (const p of ps) p.child.kill('SIGKILL');
  await Promise.all(ps.map((p) => p.exited));
}

/**
 * Runs a task on one of `workers`, kills that worker with the scheduler (and `alsoKill`),
 * starts a new scheduler (and `workerAfter`, if the task needs a worker started after the
 * kill): returns how long after the new scheduler's start the attempt was fenced.
 */
async function takeover(workers: KeelProcess[], scheduler: KeelProcess, alsoKill: KeelProcess[], workerAfter: boolean): Promise<number> {
  const ids = await Promise.all(workers.map(async (w) => (await registered(w)).id));
  const run = await triggerDag(t.db, 'ha_sleep', { params: { ms: 3000 } });
  const { attempt_id: attempt, worker_id: victimId } = await waitFor('the attempt to start', async () =>
    (await t.db.query<{ attempt_id: string; worker_id: string }>(`SELECT attempt_id, worker_id FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [run.id])).rows[0], 30000);
  await kill(workers[ids.indexOf(victimId)]!, scheduler, ...alsoKill);
  const fresh = await registered(keel('scheduler'));
  if (workerAfter) await registered(keel('worker'));
  const fence = await waitFor('the attempt to be fenced', async () =>
    (await t.db.query<{ at: Date; reason: string }>(`SELECT at, details ->> 'reason' AS reason FROM ha_event WHERE kind = 'zombie_fenced' AND details ->> 'attemptId' = $1`, [attempt])).rows[0], 60000);
  assert.equal(fence.reason, 'worker_gone', 'fenced as an orphan, not at lease expiry');
  assert.equal(await waitForRunEnd(t.db, run.id, 60000), 'success');
  const states = await t.db.query<{ state: string }>(`SELECT a.state FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1 ORDER BY a.started_at`, [run.id]);
  assert.deepEqual(states.rows.map((r) => r.state), ['fenced', 'success']);
  return fence.at.getTime() - fresh.started_at.getTime();
}

before(async () => {
  t = await freshDatabase();
  // The database's own part of the grace: its server must have been up for the grace.
  await waitFor('the server to be up for the grace', async () =>
    (await t.db.query<{ ok: boolean }>(`SELECT pg_postmaster_start_time() < now() - make_interval(secs => $1) AS ok`, [GRACE_SEC])).rows[0]?.ok, 30000, 250);
});
after(async () => {
  await killAll(started);
  await t?.drop();
});

test('both schedulers new: sessions older than the dead worker\'s last heartbeat prove it died; fenced within the new scheduler\'s grace', { timeout: 120_000 }, async () => {
  keel('dag-processor');
  await waitForDag(t.db, 'ha_sleep', 30000);
  const scheduler = keel('scheduler');
  await registered(scheduler);
  const ms = await takeover([keel('worker'), keel('worker')], scheduler, [], false);
  console.log(`# new scheduler started → dead worker's attempt fenced: ${ms} ms (grace ${GRACE_SEC} s)`);
  assert.ok(ms < GRACE_SEC * 1000, `fenced ${ms} ms after the new scheduler started, not after its ${GRACE_SEC} s grace`);
  await killAll(started);
});

test('the whole node restarted: no older session survives, the dead worker\'s pid is gone from this pid namespace; fenced within the grace', { timeout: 120_000 }, async () => {
  const processor = keel('dag-processor');
  await waitForDag(t.db, 'ha_sleep', 30000);
  const scheduler = keel('scheduler');
  await registered(scheduler);
  // Every old component dies with the worker; the new worker starts after, so its session is younger than the dead one's last heartbeat.
  const ms = await takeover([keel('worker')], scheduler, [processor], true);
  console.log(`# node restarted → dead worker's attempt fenced: ${ms} ms (grace ${GRACE_SEC} s)`);
  assert.ok(ms < GRACE_SEC * 1000, `fenced ${ms} ms after the new scheduler started, not after its ${GRACE_SEC} s grace`);
});
