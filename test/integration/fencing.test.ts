// Fencing and graceful shutdown against a real database: an attempt whose lease expired is
// fenced by a scheduler, its worker kills it at the next lease renewal, the task goes on
// per its retry policy, and any late write with the old attempt id changes nothing. A
// worker stopped with no grace period hands its attempt back without using up a try.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { endAttempt } from '../../src/fencing/end-attempt.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testLog, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/fencing/', import.meta.url));
let t: TestDatabase;
let cluster: TestCluster;
const extra: TestCluster[] = [];

before(async () => {
  t = await freshDatabase();
  // A short lease so the worker renews (and notices fencing) every 2 s.
  cluster = await startRoles(testOptions(t.url, DAGS, { attemptLeaseSec: 6 }), ['dag-processor', 'scheduler', 'worker']);
  for (const id of ['fc_stuck', 'fc_handoff']) await waitForDag(t.db, id);
});
after(async () => {
  for (const r of extra) await r.stop().catch(() => {});
  await cluster?.stop();
  await t?.drop();
});

interface TiRow { id: string; state: string; try_number: number; attempt_id: string | null }

async function ti(runId: string): Promise<TiRow> {
  return (await t.db.query<TiRow>('SELECT id, state, try_number, attempt_id FROM task_instance WHERE dag_run_id = $1', [runId])).rows[0]!;
}

async function events(kind: string, attemptId: string): Promise<{ component_id: string | null; details: Record<string, unknown> }[]> {
  return (await t.db.query<{ component_id: string | null; details: Record<string, unknown> }>(
    `SELECT component_id, details FROM ha_event WHERE kind = $1 AND details ->> 'attemptId' = $2 ORDER BY id`, [kind, attemptId],
  )).rows;
}

test('an attempt whose lease expired is fenced, killed by its worker, retried; its late writes change nothing', async () => {
  const run = await triggerDag(t.db, 'fc_stuck');
  const first = await waitFor('the first try to run', async () => {
    const row = await ti(run.id);
    return row.state === 'running' ? row : null;
  });
  const oldAttempt = first.attempt_id!;
  assert.equal(first.try_number, 1);

  // Expire the lease (as if its worker froze) and sweep. The worker may renew in between;
  // then expire it again, until a sweep fences this attempt.
  const sweeper = new Scheduler(t.db, {
    batchSize: 10, maxCatchupRunsPerLoop: 10, componentId: null, dbOutageGraceSec: 0, workerLostAfterSec: 1, componentDeadAfterSec: 5,
  }, testLog());
  await waitFor('the attempt to be fenced', async () => {
    if ((await events('zombie_fenced', oldAttempt)).length > 0) return true;
    await t.db.query(`UPDATE task_instance SET lease_expires_at = now() - interval '1 minute' WHERE id = $1 AND attempt_id = $2 AND state = 'running'`, [first.id, oldAttempt]);
    await sweeper.fenceExpiredAttempts();
    return false;
  });
  const fenced = await events('zombie_fenced', oldAttempt);
  assert.equal(fenced.length, 1, 'fenced exactly once');
  assert.equal(fenced[0]!.details.next, 'up_for_retry', 'retries 1: the fenced try is retried');

  // The worker notices at its next renewal and kills the hung try (it would sleep 10 min);
  // its own report of the end then arrives late and is rejected.
  const rejected = await waitFor('the worker to kill the fenced attempt and be rejected', async () => {
    const rows = await events('late_write_rejected', oldAttempt);
    return rows.length > 0 ? rows : null;
  }, 30000);
  assert.ok(rejected[0]!.component_id, 'rejected write came from the worker');
  const oldRow = await t.db.query<{ state: string; log: string; error: string }>('SELECT state, log, error FROM task_attempt WHERE attempt_id = $1', [oldAttempt]);
  assert.equal(oldRow.rows[0]!.state, 'fenced');
  assert.match(oldRow.rows[0]!.error, /attempt fenced: its worker did not renew the lease/);
  // Stopped by its worker: at the renewal that found it fenced, or by the worker's own
  // self-fencing when its renewals were held up by the test's repeated expiry (both end it).
  assert.match(oldRow.rows[0]!.log, /the attempt was fenced \(its lease had expired\) and was stopped by its worker|self-fenced: the worker could not renew the lease/);

  // The retry runs to success with a new attempt id.
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const done = await ti(run.id);
  assert.equal(done.state, 'success');
  assert.equal(done.try_number, 2);
  assert.notEqual(done.attempt_id, oldAttempt);
  const attempts = await t.db.query<{ try_number: number; state: string }>('SELECT try_number, state FROM task_attempt WHERE task_instance_id = $1 ORDER BY try_number', [done.id]);
  assert.deepEqual(attempts.rows, [{ try_number: 1, state: 'fenced' }, { try_number: 2, state: 'success' }]);

  // A late write with the old attempt id, straight through the one write path.
  const snapshot = async () => (await t.db.query('SELECT * FROM task_instance WHERE id = $1', [done.id])).rows[0];
  const beforeRow = await snapshot();
  const eventsBefore = (await events('late_write_rejected', oldAttempt)).length;
  for (const outcome of [{ kind: 'success', result: 'stale result' }, { kind: 'failure', error: 'stale failure' }] as const) {
    const res = await t.db.inTransaction((tx) => endAttempt(tx, {
      taskInstanceId: done.id, attemptId: oldAttempt, tryNumber: 1, maxTries: 2,
      policy: { retries: 1, retryDelaySec: 0, exponentialBackoff: false, maxRetryDelaySec: 0 },
      outcome, componentId: null,
    }));
    assert.equal(res.accepted, false);
    assert.equal(res.dagRunId, null);
  }
  assert.deepEqual(await snapshot(), beforeRow, 'no task_instance column changed');
  assert.equal((await events('late_write_rejected', oldAttempt)).length, eventsBefore + 2, 'each late write recorded');
  const runState = await t.db.query<{ state: string }>('SELECT state FROM dag_run WHERE id = $1', [run.id]);
  assert.equal(runState.rows[0]!.state, 'success');
});

test('a worker stopped with no grace hands its attempt back; another worker runs it to success', async () => {
  const handoffOptions = testOptions(t.url, DAGS, { workerQueues: 'handoff', workerShutdownGraceSec: 0, workerConcurrency: 1 });
  const first = await startRoles(handoffOptions, ['worker']);
  extra.push(first);
  const run = await triggerDag(t.db, 'fc_handoff');
  const running = await waitFor('the slow task to run on the first worker', async () => {
    const row = await ti(run.id);
    return row.state === 'running' ? row : null;
  });
  const firstAttempt = running.attempt_id!;
  assert.equal(running.try_number, 1);
  await first.stop();

  const back = await ti(run.id);
  assert.equal(back.state, 'queued', 'queued again');
  assert.equal(back.try_number, 0, 'the handed-back try is not counted');
  assert.equal(back.attempt_id, null);
  const handed = await t.db.query<{ state: string; ended_at: Date | null }>('SELECT state, ended_at FROM task_attempt WHERE attempt_id = $1', [firstAttempt]);
  assert.equal(handed.rows[0]!.state, 'handed_back');
  assert.ok(handed.rows[0]!.ended_at);

  const second = await startRoles(handoffOptions, ['worker']);
  extra.push(second);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const done = await t.db.query<{ state: string; try_number: number; attempt_id: string; result: string }>('SELECT state, try_number, attempt_id, result FROM task_instance WHERE dag_run_id = $1', [run.id]);
  assert.equal(done.rows[0]!.try_number, 1);
  assert.notEqual(done.rows[0]!.attempt_id, firstAttempt);
  assert.equal(done.rows[0]!.result, `finished by attempt ${done.rows[0]!.attempt_id}`);
  const attempts = await t.db.query<{ try_number: number; state: string }>(
    'SELECT a.try_number, a.state FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1 ORDER BY a.started_at', [run.id],
  );
  assert.deepEqual(attempts.rows, [{ try_number: 1, state: 'handed_back' }, { try_number: 1, state: 'success' }]);
});
