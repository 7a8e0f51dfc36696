// Deferrable tasks end to end on real roles: a deferred task gives its worker slot back,
// resumes on a worker with the trigger's event (same try, new attempt id), and every
// built-in trigger kind fires; timeouts and bad triggers fail the task with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { postExternalEvent } from '../../src/deferral/external-events.js';
import { startRoles, taskStates, testOptions, useCluster, waitFor, waitForRunEnd, type TestCluster } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/deferral/', import.meta.url));
const t = useCluster(DAGS, ['df_time', 'df_external', 'df_file', 'df_http', 'df_upstream', 'df_cross', 'df_timeout', 'df_custom', 'df_bad_trigger', 'df_handback'],
  { workerConcurrency: 1, triggererPollMs: 200 }, ['dag-processor', 'scheduler', 'worker', 'triggerer']);

async function instance(runId: string, taskId: string) {
  return (await t.db.query<{ id: string; state: string; try_number: number; result: unknown; error: string | null; attempt_id: string }>(
    'SELECT id, state, try_number, result, error, attempt_id FROM task_instance WHERE dag_run_id = $1 AND task_id = $2', [runId, taskId])).rows[0]!;
}

async function attempts(taskInstanceId: string) {
  return (await t.db.query<{ attempt_id: string; try_number: number; state: string }>(
    'SELECT attempt_id, try_number, state FROM task_attempt WHERE task_instance_id = $1 ORDER BY started_at', [taskInstanceId])).rows;
}

async function triggerRows(taskInstanceId: string) {
  return (await t.db.query<{ state: string; event: unknown; holder_count: number }>(
    'SELECT state, event, holder_count FROM trigger WHERE task_instance_id = $1 ORDER BY id', [taskInstanceId])).rows;
}

test('a deferred task resumes with the event: same try, a new attempt id, and the downstream task sees its result', async () => {
  const run = await triggerDag(t.db, 'df_time');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const wait = await instance(run.id, 'wait');
  const result = wait.result as { event: { at: string; firedAt: string }; attemptId: string; tryNumber: number };
  assert.equal(result.tryNumber, 1);
  assert.ok(Date.parse(result.event.firedAt) >= Date.parse(result.event.at), 'fired at or after its time');
  const a = await attempts(wait.id);
  assert.deepEqual(a.map((x) => [x.try_number, x.state]), [[1, 'deferred'], [1, 'success']]);
  assert.notEqual(a[0]!.attempt_id, a[1]!.attempt_id);
  assert.equal(result.attemptId, a[1]!.attempt_id);
  const trig = await triggerRows(wait.id);
  assert.deepEqual(trig.map((x) => x.state), ['fired']);
  assert.deepEqual(((await instance(run.id, 'after')).result as { upstream: unknown }).upstream, wait.result);
});

test('a deferred sensor frees its worker slot; an external event resumes it, and a repeated post of the same event id changes nothing', async () => {
  const key = `approve-${Date.now()}`;
  const waiting = await triggerDag(t.db, 'df_external', { params: { key } });
  const ti = await waitFor('the sensor to defer', async () => {
    const i = await instance(waiting.id, 'approval');
    return i?.state === 'deferred' ? i : null;
  });
  // The only worker slot is free: another run completes while the sensor waits.
  const other = await triggerDag(t.db, 'df_upstream');
  assert.equal(await waitForRunEnd(t.db, other.id), 'success');
  assert.equal((await instance(waiting.id, 'approval')).state, 'deferred');
  const first = await postExternalEvent(t.db, key, { approvedBy: 'ada' }, `evt-${key}`);
  const again = await postExternalEvent(t.db, key, { approvedBy: 'someone else' }, `evt-${key}`);
  assert.equal(first.created, true);
  assert.equal(again.created, false);
  assert.equal(await waitForRunEnd(t.db, waiting.id), 'success');
  const done = await instance(waiting.id, 'approval');
  assert.deepEqual((done.result as { payload: unknown }).payload, { approvedBy: 'ada' });
  assert.equal((await attempts(ti.id)).filter((a) => a.state === 'success').length, 1);
});

test('file triggers: the deferrable sensor and the poke sensor both fire when the file appears', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-df-'));
  const path = join(dir, 'ready.flag');
  const run = await triggerDag(t.db, 'df_file', { params: { path } });
  await waitFor('the deferrable sensor to defer', async () => (await instance(run.id, 'deferrable'))?.state === 'deferred');
  // The poke sensor runs in the slot the deferred one gave back, and has looked twice in vain.
  await waitFor('the poke sensor to poke twice', async () => (await t.db.query(
    `SELECT 1 FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id
     WHERE ti.dag_run_id = $1 AND ti.task_id = 'poke' AND a.state = 'running' AND a.log LIKE '%poke 2:%'`, [run.id])).rowCount);
  writeFileSync(path, 'x');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.equal(((await instance(run.id, 'deferrable')).result as { path: string }).path, path);
  assert.equal(((await instance(run.id, 'poke')).result as { path: string }).path, path);
  // The poke sensor never deferred: one attempt that held its slot throughout.
  assert.deepEqual((await attempts((await instance(run.id, 'poke')).id)).map((a) => a.state), ['success']);
});

test('an HTTP trigger fires once the endpoint answers 200 with the expected body', async () => {
  let ready = false;
  let refused = 0;
  const server = createServer((_req, res) => {
    if (!ready) refused++;
    res.writeHead(ready ? 200 : 503).end(ready ? 'ready' : 'starting');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const run = await triggerDag(t.db, 'df_http', { params: { url: `http://127.0.0.1:${port}/status` } });
    await waitFor('the sensor to defer', async () => (await instance(run.id, 'ready'))?.state === 'deferred');
    // One trigger is checked one request at a time: the fourth request from now shows that
    // the triggerer has handled three 503 answers (as many as 0.6 s gives at its 0.2 s poll).
    const seen = refused;
    await waitFor('three more checks answered 503', async () => refused >= seen + 4);
    assert.equal((await instance(run.id, 'ready')).state, 'deferred', 'a 503 does not fire');
    ready = true;
    assert.equal(await waitForRunEnd(t.db, run.id), 'success');
    assert.equal(((await instance(run.id, 'ready')).result as { status: number }).status, 200);
  } finally {
    server.close();
  }
});

test('a cross-DAG sensor fires when the other run\'s task succeeds', async () => {
  const up = await triggerDag(t.db, 'df_upstream');
  const run = await triggerDag(t.db, 'df_cross', { params: { runId: up.runId } });
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual((await instance(run.id, 'upstream_work')).result, { dagId: 'df_upstream', runId: up.runId, taskId: 'work', state: 'success' });
});

test('a custom trigger defined in the DAG file fires when its poll says so', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'keel-df-')), 'signal.txt');
  writeFileSync(path, 'wait');
  const run = await triggerDag(t.db, 'df_custom', { params: { path } });
  await waitFor('the sensor to defer', async () => (await instance(run.id, 'says_go'))?.state === 'deferred');
  writeFileSync(path, 'go now');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual((await instance(run.id, 'says_go')).result, { word: 'go' });
});

test('a deferral times out and fails its task, naming the trigger', async () => {
  const run = await triggerDag(t.db, 'df_timeout');
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed');
  const ti = await instance(run.id, 'never');
  assert.equal(ti.state, 'failed');
  assert.match(ti.error ?? '', /deferral timed out after 1 s waiting for external event "df-never-posted"/);
  assert.deepEqual((await triggerRows(ti.id)).map((x) => x.state), ['timed_out']);
});

test('an invalid trigger fails the deferring attempt with the field at fault, and stores no trigger', async () => {
  const run = await triggerDag(t.db, 'df_bad_trigger');
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed');
  const ti = await instance(run.id, 'bad');
  assert.match(ti.error ?? '', /invalid trigger: path: must be an absolute path/);
  assert.deepEqual(await triggerRows(ti.id), []);
  assert.deepEqual(await taskStates(t.db, run.id), { bad: 'failed' });
});

test('a worker stopped while a resumed try runs hands it back without changing the try number', async () => {
  const release = join(mkdtempSync(join(tmpdir(), 'keel-handback-')), 'release');
  const options = testOptions(t.url, DAGS, { workerQueues: 'df_handback', workerShutdownGraceSec: 0, workerConcurrency: 1 });
  let first: TestCluster | null = await startRoles(options, ['worker']);
  let second: TestCluster | null = null;
  try {
    const run = await triggerDag(t.db, 'df_handback', { params: { release } });
    const resumed = await waitFor('the resumed try to run', async () => {
      const i = await instance(run.id, 'resumed_then_waits');
      return i && (await attempts(i.id)).some((a) => a.state === 'deferred') && i.state === 'running' ? i : null;
    });
    assert.equal(resumed.try_number, 1);
    await first.stop(); // no grace: the running resumed try is handed back
    first = null;
    const back = await instance(run.id, 'resumed_then_waits');
    assert.equal(back.state, 'queued');
    assert.equal(back.try_number, 1, 'handing back a resumed try leaves its try number as it was');
    writeFileSync(release, 'go');
    second = await startRoles(options, ['worker']);
    assert.equal(await waitForRunEnd(t.db, run.id), 'success');
    const done = await instance(run.id, 'resumed_then_waits');
    assert.deepEqual(done.result, { tryNumber: 1 });
    assert.deepEqual((await attempts(done.id)).map((a) => [a.try_number, a.state]), [[1, 'deferred'], [1, 'handed_back'], [1, 'success']]);
  } finally {
    await second?.stop();
    await first?.stop();
  }
});
