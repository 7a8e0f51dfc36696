// Retries end to end: try numbers, one task_attempt row per try, the retry budget, and the
// exponential backoff delay recorded in next_retry_at (computed by the database clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';

import { useCluster, waitForRunEnd } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/retries/', import.meta.url));
const t = useCluster(DAGS, ['rt_enough', 'rt_too_few', 'rt_backoff']);

interface Attempt { try_number: number; state: string; error: string | null; started_at: Date; ended_at: Date }

async function instance(runId: string) {
  const r = await t.db.query<{ id: string; state: string; try_number: number; max_tries: number; result: unknown; error: string | null }>(
    `SELECT id, state, try_number, max_tries, result, error FROM task_instance WHERE dag_run_id = $1 AND task_id = 'flaky'`, [runId],
  );
  return r.rows[0]!;
}

async function attempts(taskInstanceId: string): Promise<Attempt[]> {
  return (await t.db.query<Attempt>('SELECT try_number, state, error, started_at, ended_at FROM task_attempt WHERE task_instance_id = $1 ORDER BY try_number', [taskInstanceId])).rows;
}

test('a task failing twice with retries 2 succeeds on try 3, one attempt row per try', async () => {
  const run = await triggerDag(t.db, 'rt_enough');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const ti = await instance(run.id);
  assert.equal(ti.state, 'success');
  assert.equal(ti.try_number, 3);
  assert.equal(ti.max_tries, 3);
  assert.equal(ti.result, 'succeeded on try 3');
  assert.equal(ti.error, null);
  const a = await attempts(ti.id);
  assert.deepEqual(a.map((x) => [x.try_number, x.state]), [[1, 'failed'], [2, 'failed'], [3, 'success']]);
  assert.match(a[0]!.error ?? '', /flaky failure on try 1/);
  assert.match(a[1]!.error ?? '', /flaky failure on try 2/);
  // Tries never overlap: each starts after the previous one ended.
  for (let i = 1; i < a.length; i++) assert.ok(a[i]!.started_at >= a[i - 1]!.ended_at, `try ${i + 1} started after try ${i} ended`);
});

test('the same task with retries 1 fails after two tries', async () => {
  const run = await triggerDag(t.db, 'rt_too_few');
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed');
  const ti = await instance(run.id);
  assert.equal(ti.state, 'failed');
  assert.equal(ti.try_number, 2);
  assert.equal(ti.max_tries, 2);
  assert.match(ti.error ?? '', /flaky failure on try 2/);
  assert.deepEqual((await attempts(ti.id)).map((x) => [x.try_number, x.state]), [[1, 'failed'], [2, 'failed']]);
});

test('exponential backoff: the retry delay doubles (1 s, then 2 s) and is respected', async () => {
  const run = await triggerDag(t.db, 'rt_backoff');
  // Watch the up_for_retry states: next_retry_at - ended_at is the delay the policy chose.
  const delays = new Map<number, number>();
  let state = 'queued';
  const deadline = Date.now() + 30000;
  while (state !== 'success' && state !== 'failed' && Date.now() < deadline) {
    const r = await t.db.query<{ state: string; try_number: number; delay_ms: number | null }>(
      `SELECT state, try_number, (extract(epoch FROM next_retry_at - ended_at) * 1000)::float8 AS delay_ms
       FROM task_instance WHERE dag_run_id = $1 AND task_id = 'flaky'`, [run.id],
    );
    const row = r.rows[0];
    if (row) {
      state = row.state;
      if (row.state === 'up_for_retry' && row.delay_ms !== null) delays.set(row.try_number, row.delay_ms);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual([...delays.entries()].sort((x, y) => x[0] - y[0]), [[1, 1000], [2, 2000]]);
  const ti = await instance(run.id);
  const a = await attempts(ti.id);
  assert.equal(a.length, 3);
  // The scheduler waited at least the delay before the next try started (database clock).
  assert.ok(a[1]!.started_at.getTime() - a[0]!.ended_at.getTime() >= 1000, 'try 2 waited >= 1 s');
  assert.ok(a[2]!.started_at.getTime() - a[1]!.ended_at.getTime() >= 2000, 'try 3 waited >= 2 s');
});
