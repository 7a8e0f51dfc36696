// Task isolation end to end: a task that loops forever, exits its process, throws, runs out
// of memory or returns too much fails with an error that says why, and the worker survives
// every one of them: other tasks run meanwhile and afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';

import { taskStates, useCluster, waitFor, waitForRunEnd } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/isolation/', import.meta.url));
const RESULT_LIMIT = 1000;
const t = useCluster(DAGS, ['iso_loops', 'iso_exits', 'iso_throws', 'iso_oom', 'iso_big_result', 'iso_healthy', 'iso_quick'], { runnerMemoryMb: 64, taskResultMaxBytes: RESULT_LIMIT, workerConcurrency: 2 });

async function failedWith(dagId: string, taskId: string): Promise<string> {
  const run = await triggerDag(t.db, dagId);
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed', `${dagId} run fails`);
  const r = await t.db.query<{ state: string; error: string; attempt_error: string; attempt_state: string }>(
    `SELECT ti.state, ti.error, a.error AS attempt_error, a.state AS attempt_state
     FROM task_instance ti JOIN task_attempt a ON a.attempt_id = ti.attempt_id
     WHERE ti.dag_run_id = $1 AND ti.task_id = $2`, [run.id, taskId],
  );
  const row = r.rows[0]!;
  assert.equal(row.state, 'failed');
  assert.equal(row.attempt_state, 'failed');
  assert.equal(row.attempt_error, row.error, 'the attempt records the same error');
  return row.error;
}

async function healthyRunSucceeds(): Promise<void> {
  const run = await triggerDag(t.db, 'iso_healthy');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await taskStates(t.db, run.id), { a: 'success', b: 'success' });
}

test('a task that loops forever is killed at its execution timeout while the worker serves other tasks', async () => {
  const looping = await triggerDag(t.db, 'iso_loops');
  await waitFor('the looping task to run', async () => (await t.db.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [looping.id])).rowCount);
  // While one runner spins, the worker still runs other work to completion.
  const other = await triggerDag(t.db, 'iso_quick');
  assert.equal(await waitForRunEnd(t.db, other.id), 'success');
  assert.equal(await waitForRunEnd(t.db, looping.id), 'failed');
  const r = await t.db.query<{ error: string; ended_at: Date }>(`SELECT error, ended_at FROM task_instance WHERE dag_run_id = $1`, [looping.id]);
  assert.match(r.rows[0]!.error, /timed out after 6s \(executionTimeoutSec\)/);
  const otherEnd = await t.db.query<{ ended_at: Date }>(`SELECT max(ended_at) AS ended_at FROM task_instance WHERE dag_run_id = $1`, [other.id]);
  assert.ok(otherEnd.rows[0]!.ended_at < r.rows[0]!.ended_at, 'the other run finished while the loop was still spinning');
  await healthyRunSucceeds();
});

test('a task that calls process.exit(3) fails naming the exit code', async () => {
  assert.match(await failedWith('iso_exits', 'exit3'), /runner process ended during the task \(exit code 3.*process\.exit/);
  await healthyRunSucceeds();
});

test('a task that throws fails with its error message', async () => {
  assert.match(await failedWith('iso_throws', 'boom'), /boom: the task threw on purpose/);
  await healthyRunSucceeds();
});

test('a task that exhausts memory fails with "out of memory" naming the limit', async () => {
  assert.match(await failedWith('iso_oom', 'hog'), /ran out of memory \(runner heap limit 64 MB, runnerMemoryMb\)/);
  await healthyRunSucceeds();
});

test('a result over taskResultMaxBytes fails naming the limit', async () => {
  assert.match(await failedWith('iso_big_result', 'big'), new RegExp(`result is \\d+ bytes, over the limit of ${RESULT_LIMIT} \\(taskResultMaxBytes\\)`));
  const stored = await t.db.query(`SELECT 1 FROM task_instance WHERE task_id = 'big' AND result IS NOT NULL`);
  assert.equal(stored.rowCount, 0, 'the oversized result is not stored');
  await healthyRunSucceeds();
});

test('after all of that the worker is registered once and still runs tasks', async () => {
  const workers = await t.db.query<{ state: string }>(`SELECT state FROM component WHERE role = 'worker'`);
  assert.deepEqual(workers.rows, [{ state: 'running' }]);
  await healthyRunSucceeds();
});
