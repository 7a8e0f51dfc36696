// Fencing by hand (src/fencing/operator-fence.ts): a worker frozen with a running attempt
// under a long lease (a host that hangs) holds its task until the lease runs out. `keel ha
// fence` moves the task to another worker at once; the frozen worker, thawed, heartbeats
// again but stays fenced: it claims nothing more, and its report of the fenced attempt
// changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { runKeel, expectCode } from '../support/cli.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/ha-dags/', import.meta.url));
const LEASE_SEC = 120;
let t: TestDatabase;
let cluster: TestCluster;
const started: KeelProcess[] = [];
const frozen: number[] = [];

before(async () => {
  t = await freshDatabase();
  cluster = await startRoles(testOptions(t.url, DAGS), ['dag-processor', 'scheduler']);
  await waitForDag(t.db, 'ha_sleep');
});
after(async () => {
  for (const pid of frozen) try { process.kill(pid, 'SIGCONT'); } catch { /* gone already */ }
  await killAll(started);
  await cluster?.stop();
  await t?.drop();
});

function worker(): KeelProcess {
  const p = spawnKeel(['worker'], {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_WORKER_CONCURRENCY: '2', KEEL_WORKER_POLL_MS: '200',
    KEEL_ATTEMPT_LEASE_SEC: String(LEASE_SEC), KEEL_DB_OUTAGE_GRACE_SEC: '0',
  });
  started.push(p);
  return p;
}
const componentOf = (pid: number) => waitFor(`worker ${pid} to register`, async () =>
  (await t.db.query<{ id: string }>(`SELECT id FROM component WHERE pid = $1 AND state = 'running'`, [pid])).rows[0]?.id);
const cli = (args: string[]) => runKeel(args, { KEEL_DATABASE_URL: t.url });
const runningOn = (runId: string) => t.db.query<{ worker_id: string; attempt_id: string; log: string }>(
  `SELECT ti.worker_id, ti.attempt_id, a.log FROM task_instance ti JOIN task_attempt a ON a.attempt_id = ti.attempt_id WHERE ti.dag_run_id = $1 AND ti.state = 'running'`, [runId]);

test('a fenced frozen worker\'s task runs elsewhere at once; thawed, the worker stays fenced and takes nothing', async (ctx) => {
  const workers = [worker(), worker()];
  const ids = await Promise.all(workers.map((w) => componentOf(w.child.pid!)));
  const run = await triggerDag(t.db, 'ha_sleep', { params: { ms: 8000 } });
  const first = await waitFor('the attempt to run and log its runner pid', async () => {
    const row = (await runningOn(run.id)).rows[0];
    const pid = row && /pid (\d+) attempt/.exec(row.log)?.[1];
    return pid ? { ...row, runnerPid: Number(pid) } : null;
  }, 30000);
  // A is the worker that runs it, B the other.
  const ai = ids.indexOf(first.worker_id);
  assert.ok(ai >= 0);
  const [a, aId, bId] = [workers[ai]!, ids[ai]!, ids[1 - ai]!];

  // The whole of A hangs: the worker and the runner that runs the task.
  for (const pid of [a.child.pid!, first.runnerPid]) {
    process.kill(pid, 'SIGSTOP');
    frozen.push(pid);
  }

  const dry = await cli(['--json', 'ha', 'fence', aId, '--reason', 'host h1 hangs', '--dry-run']);
  expectCode(dry, 0);
  const plan = JSON.parse(dry.stdout);
  assert.deepEqual(plan.components.map((c: { id: string }) => c.id), [aId]);
  assert.deepEqual(plan.attempts.map((x: { attemptId: string }) => x.attemptId), [first.attempt_id]);
  assert.equal((await runningOn(run.id)).rows[0]?.attempt_id, first.attempt_id, 'a dry run changes nothing');

  const bad = await cli(['ha', 'fence', 'not-an-id', '--reason', 'x']);
  expectCode(bad, 2);
  assert.match(bad.stderr, /not a component id: not-an-id/);

  const fencedAt = Date.now();
  const fence = await cli(['ha', 'fence', aId, '--reason', 'host h1 hangs']);
  expectCode(fence, 0);
  assert.match(fence.stdout, /fenced 1 component/);
  assert.match(fence.stdout, /1 running attempt\(s\) fenced/);
  const second = await waitFor('the task to run again on worker B', async () => (await runningOn(run.id)).rows.find((r) => r.worker_id === bId), 20000);
  const movedMs = Date.now() - fencedAt;
  ctx.diagnostic(`task running on worker B ${movedMs} ms after the fence command started (lease ${LEASE_SEC} s)`);
  assert.ok(movedMs < LEASE_SEC * 1000 / 4, `moved in ${movedMs} ms, long before the ${LEASE_SEC} s lease`);
  const event = (await t.db.query<{ details: { by: string; reason: string; attemptsFenced: number } }>(`SELECT details FROM ha_event WHERE kind = 'component_fenced' AND component_id = $1`, [aId])).rows;
  assert.equal(event.length, 1);
  assert.equal(event[0]!.details.reason, 'host h1 hangs');
  assert.equal(event[0]!.details.attemptsFenced, 1);
  assert.match(event[0]!.details.by, /^cli:/);

  for (const pid of frozen.splice(0)) process.kill(pid, 'SIGCONT');
  // Thawed, A heartbeats again but is not let back in.
  await waitFor('worker A to heartbeat after the fence', async () =>
    (await t.db.query(`SELECT 1 FROM component WHERE id = $1 AND last_heartbeat_at > now() - interval '1 second' AND state = 'fenced'`, [aId])).rowCount, 20000);
  await waitFor('worker A to say it was fenced', async () => a.output().includes('an operator fenced this component'));
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const ti = (await t.db.query<{ result: string; try_number: number }>(`SELECT result, try_number FROM task_instance WHERE dag_run_id = $1`, [run.id])).rows[0]!;
  assert.equal(ti.result, second.attempt_id, 'the result is the retry\'s, whatever the thawed attempt reported');
  assert.equal((await t.db.query<{ state: string }>(`SELECT state FROM task_attempt WHERE attempt_id = $1`, [first.attempt_id])).rows[0]!.state, 'fenced');

  // New work goes to B only, while A keeps polling (its heartbeat shows it alive throughout).
  const more = await Promise.all([1, 2, 3, 4].map(() => triggerDag(t.db, 'ha_sleep', { params: { ms: 300 } })));
  for (const r of more) assert.equal(await waitForRunEnd(t.db, r.id), 'success');
  const claimedByA = await t.db.query(`SELECT 1 FROM task_attempt WHERE worker_id = $1 AND attempt_id <> $2`, [aId, first.attempt_id]);
  assert.equal(claimedByA.rowCount, 0, 'the fenced worker claimed nothing');
  assert.equal((await t.db.query(`SELECT 1 FROM component WHERE id = $1 AND state = 'fenced' AND last_heartbeat_at > now() - interval '2 seconds'`, [aId])).rowCount, 1, 'A was alive and still fenced');
});
