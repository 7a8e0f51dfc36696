// Every trigger rule, end to end on a real cluster: the states the scheduler gives each
// task downstream of a failing and a succeeding branch, and the run state the leaves decide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';

import { taskStates, useCluster, waitForRunEnd } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/trigger-rules/', import.meta.url));
const t = useCluster(DAGS, ['tr_mixed', 'tr_handled', 'tr_skips']);

async function results(runId: string): Promise<Record<string, unknown>> {
  const r = await t.db.query<{ task_id: string; result: unknown }>('SELECT task_id, result FROM task_instance WHERE dag_run_id = $1 AND result IS NOT NULL', [runId]);
  return Object.fromEntries(r.rows.map((x) => [x.task_id, x.result]));
}

test('every trigger rule downstream of a failing and a succeeding task; a failed leaf fails the run', async () => {
  const run = await triggerDag(t.db, 'tr_mixed');
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed');
  assert.deepEqual(await taskStates(t.db, run.id), {
    ok: 'success',
    bad: 'failed',
    r_all_success: 'upstream_failed',
    r_all_failed: 'skipped',
    r_all_done: 'success',
    r_one_success: 'success',
    r_one_failed: 'success',
    r_none_failed: 'upstream_failed',
    r_none_skipped: 'success',
    r_always: 'success',
  });
  // The tasks that ran really ran (their results are stored); the others never started.
  const res = await results(run.id);
  assert.deepEqual(Object.keys(res).sort(), ['ok', 'r_all_done', 'r_always', 'r_none_skipped', 'r_one_failed', 'r_one_success']);
  assert.equal(res.r_one_failed, 'one_failed');
  const notRun = await t.db.query<{ task_id: string; try_number: number }>(
    `SELECT task_id, try_number FROM task_instance WHERE dag_run_id = $1 AND state IN ('skipped', 'upstream_failed') ORDER BY task_id`, [run.id],
  );
  assert.deepEqual(notRun.rows, [
    { task_id: 'r_all_failed', try_number: 0 },
    { task_id: 'r_all_success', try_number: 0 },
    { task_id: 'r_none_failed', try_number: 0 },
  ]);
  const bad = await t.db.query<{ error: string }>(`SELECT error FROM task_instance WHERE dag_run_id = $1 AND task_id = 'bad'`, [run.id]);
  assert.match(bad.rows[0]!.error, /this branch fails/);
});

test('a failure handled by one_failed / all_done leaves: the run succeeds', async () => {
  const run = await triggerDag(t.db, 'tr_handled');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await taskStates(t.db, run.id), { bad: 'failed', on_failure: 'success', cleanup: 'success' });
  assert.deepEqual(await results(run.id), { on_failure: 'alerted', cleanup: 'cleaned' });
});

test('a skip cascades by rule; skipped leaves do not fail the run', async () => {
  const run = await triggerDag(t.db, 'tr_skips');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await taskStates(t.db, run.id), {
    a: 'success',
    b: 'success',
    only_if_all_failed: 'skipped',
    after_all_success: 'skipped',
    after_none_skipped: 'skipped',
    after_none_failed: 'success',
    after_one_success: 'success',
    after_one_failed: 'skipped',
  });
  const res = await results(run.id);
  assert.deepEqual(Object.keys(res).sort(), ['a', 'after_none_failed', 'after_one_success', 'b']);
});
