import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { taskStates, useCluster, waitForRunEnd } from '../support/cluster.js';


const DAGS = fileURLToPath(new URL('../fixtures/dags/', import.meta.url));
const t = useCluster(DAGS, ['t_chain']);

test('a manual run passes params and upstream results down a chain', async () => {
  const run = await triggerDag(t.db, 't_chain', { params: { n: 7 } });
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await taskStates(t.db, run.id), { a: 'success', b: 'success', c: 'success' });
  const results = await t.db.query<{ task_id: string; result: unknown }>('SELECT task_id, result FROM task_instance WHERE dag_run_id = $1 ORDER BY task_id', [run.id]);
  assert.deepEqual(results.rows.map((r) => r.result), [7, 70, 'done']);
  const log = await t.db.query<{ log: string }>(`SELECT a.log FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1 AND ti.task_id = 'c'`, [run.id]);
  assert.match(log.rows[0]!.log, /n=7/);
});

test('triggers of one DAG in the same instant all succeed, each with its own run', async () => {
  const runs = await Promise.all(Array.from({ length: 20 }, () => triggerDag(t.db, 't_chain')));
  assert.equal(new Set(runs.map((r) => r.id)).size, 20);
  assert.equal(new Set(runs.map((r) => r.logicalDate.toISOString())).size, 20);
  for (const r of runs) assert.equal(await waitForRunEnd(t.db, r.id), 'success');
});
