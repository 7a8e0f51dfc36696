// Pools, priority weights and max_active_tasks end to end. Concurrency is judged from the
// attempts' database timestamps: a 1-slot pool never has two attempts running at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, taskStates, testOptions, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { attemptSpans, overlaps } from '../support/intervals.js';

const DAGS = fileURLToPath(new URL('../fixtures/pools/', import.meta.url));
let t: TestDatabase;
let cluster: TestCluster;

before(async () => {
  t = await freshDatabase();
  await t.db.query(`INSERT INTO pool (name, slots, description) VALUES ('single', 1, 'one at a time'), ('ranked', 1, 'priority order')`);
  cluster = await startRoles(testOptions(t.url, DAGS, { workerConcurrency: 4 }), ['dag-processor', 'scheduler', 'worker']);
  for (const id of ['pl_single', 'pl_ranked', 'pl_serial', 'pl_wide']) await waitForDag(t.db, id);
});
after(async () => {
  await cluster?.stop();
  await t?.drop();
});

test('without limits, independent tasks run at once (the overlap check can see overlap)', async () => {
  const run = await triggerDag(t.db, 'pl_wide');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const spans = await attemptSpans(t.db, [run.id]);
  assert.equal(spans.length, 4);
  assert.ok(overlaps(spans).length > 0, 'some of the four 1.5 s tasks ran at the same time');
});

test('a pool with one slot never runs two of its tasks at once, across runs, and all succeed', async () => {
  const a = await triggerDag(t.db, 'pl_single', { logicalDate: new Date('2026-01-01T00:00:00Z') });
  const b = await triggerDag(t.db, 'pl_single', { logicalDate: new Date('2026-01-02T00:00:00Z') });
  assert.equal(await waitForRunEnd(t.db, a.id), 'success');
  assert.equal(await waitForRunEnd(t.db, b.id), 'success');
  for (const run of [a, b]) assert.deepEqual(await taskStates(t.db, run.id), { t1: 'success', t2: 'success', t3: 'success', t4: 'success' });
  const spans = await attemptSpans(t.db, [a.id, b.id]);
  assert.equal(spans.length, 8, 'one attempt per task');
  assert.deepEqual(overlaps(spans), []);
});

test('with one slot, higher priority_weight is queued first', async () => {
  const run = await triggerDag(t.db, 'pl_ranked');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const spans = await attemptSpans(t.db, [run.id]);
  assert.deepEqual(spans.map((s) => s.label.split('/')[1]), ['p10#1', 'p5#1', 'p3#1', 'p1#1']);
  assert.deepEqual(overlaps(spans), []);
  const queued = await t.db.query<{ task_id: string }>('SELECT task_id FROM task_instance WHERE dag_run_id = $1 ORDER BY queued_at, id', [run.id]);
  assert.deepEqual(queued.rows.map((r) => r.task_id), ['p10', 'p5', 'p3', 'p1']);
});

test('max_active_tasks 1 runs a run\'s tasks one at a time', async () => {
  const run = await triggerDag(t.db, 'pl_serial');
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await taskStates(t.db, run.id), { s1: 'success', s2: 'success', s3: 'success', s4: 'success' });
  const spans = await attemptSpans(t.db, [run.id]);
  assert.equal(spans.length, 4);
  assert.deepEqual(overlaps(spans), []);
});
