// Nothing waits silently: a task naming a pool that does not exist, a queue no live worker
// takes, a DAG's maxActiveRuns, an upstream task and a paused DAG each come with their
// reason in the API and in `keel runs show`; once the cause is gone the run finishes and
// the reason is gone too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startRole, type RunningRole } from '../../src/runtime/roles.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { useApiCluster } from '../support/api.js';
import { runKeel, expectCode } from '../support/cli.js';
import { testLog, testOptions, waitFor, waitForRunEnd } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/waiting/', import.meta.url));
// No worker at first: whatever is queued stays queued.
const c = useApiCluster(DAGS, ['wt_pool', 'wt_queue', 'wt_limit'], {}, ['dag-processor', 'scheduler', 'api']);

interface ShownRun { state: string; waitingReason: string | null; tasks: { taskId: string; state: string; waitingReason: string | null }[] }
const show = async (runId: string) => (await c.admin.req<ShownRun>('GET', `/api/v1/runs/${runId}`)).body;
const taskReason = (r: ShownRun, taskId: string) => r.tasks.find((t) => t.taskId === taskId)?.waitingReason ?? null;
/** Waits until the API gives the task (or, without taskId, the run) a reason matching `re`. */
async function reasonFor(runId: string, re: RegExp, taskId?: string): Promise<ShownRun> {
  return waitFor(`run ${runId}${taskId ? ` task ${taskId}` : ''} to wait for ${re}`, async () => {
    const r = await show(runId);
    const why = taskId ? taskReason(r, taskId) : r.waitingReason;
    return why !== null && re.test(why) ? r : null;
  });
}
const trigger = async (dagId: string) => (await triggerDag(c.t.db, dagId, {})).id;
const cli = (args: string[]) => runKeel(args, { KEEL_DATABASE_URL: c.t.url });

let runs: Record<string, string> = {};

test('each waiting task and run says what it waits for, in the API and the CLI', async () => {
  runs = { pool: await trigger('wt_pool'), queue: await trigger('wt_queue'), first: await trigger('wt_limit'), second: await trigger('wt_limit') };

  await reasonFor(runs.pool!, /^pool "warehouse" does not exist: create it/, 'load');
  await reasonFor(runs.queue!, /^no live worker takes queue "gpu" \(no worker is alive\)/, 'train');
  const first = await reasonFor(runs.first!, /^no live worker takes queue "default"/, 'a');
  assert.match(taskReason(first, 'b')!, /^waiting for upstream a \(queued\)$/);
  assert.equal(first.waitingReason, null, 'the running run itself is not held');
  await reasonFor(runs.second!, /^waiting for a run slot: 1 of the DAG's maxActiveRuns 1 runs are running$/);

  const text = await cli(['runs', 'show', runs.pool!]);
  expectCode(text, 0);
  assert.match(text.stdout, /load .*pool "warehouse" does not exist/);
  const json = await cli(['--json', 'runs', 'show', runs.second!]);
  expectCode(json, 0);
  assert.match(JSON.parse(json.stdout).waiting_reason, /waiting for a run slot/);
});

test('a paused DAG is the reason of its run; unpaused, the task says what it waits for again', async () => {
  expectCode(await cli(['dags', 'pause', 'wt_pool']), 0);
  const paused = await reasonFor(runs.pool!, /^DAG "wt_pool" is paused: .*keel dags unpause wt_pool/);
  assert.equal(taskReason(paused, 'load'), null, 'the run-wide hold is given once');
  const cliText = await cli(['runs', 'show', runs.pool!]);
  assert.match(cliText.stdout, /^waiting: DAG "wt_pool" is paused/m);
  expectCode(await cli(['dags', 'unpause', 'wt_pool']), 0);
  await reasonFor(runs.pool!, /^pool "warehouse" does not exist/, 'load');
});

test('once the pool exists (keel pools set) and a worker runs, the runs finish and no reason is left', async () => {
  const bad = await cli(['pools', 'set', 'warehouse', '--slots', '-1']);
  expectCode(bad, 2);
  assert.match(bad.stderr, /--slots must be a whole number from 0 to 1000000, got "-1"/);
  expectCode(await cli(['pools', 'set', 'warehouse', '--slots', '1', '--description', 'the data warehouse']), 0);
  const listed = await cli(['--json', 'pools', 'list']);
  const pool = JSON.parse(listed.stdout).find((p: { name: string }) => p.name === 'warehouse');
  assert.deepEqual({ name: pool.name, slots: pool.slots, description: pool.description }, { name: 'warehouse', slots: 1, description: 'the data warehouse' });
  let worker: RunningRole | null = null;
  try {
    worker = await startRole('worker', testOptions(c.t.url, DAGS), testLog());
    for (const id of [runs.pool!, runs.first!, runs.second!]) assert.equal(await waitForRunEnd(c.t.db, id), 'success');
    for (const id of [runs.pool!, runs.second!]) {
      const r = await show(id);
      assert.equal(r.waitingReason, null);
      assert.deepEqual(r.tasks.map((t) => t.waitingReason), r.tasks.map(() => null));
    }
    // The gpu task still waits, now with the queues the live worker takes.
    await reasonFor(runs.queue!, /^no live worker takes queue "gpu" \(live workers serve "default"\): start one with --queues gpu/, 'train');
  } finally {
    await worker?.stop();
  }
});
