// Clear, mark and cancel with real processes (DAG processor, scheduler, workers): a clear with
// downstream after a fix lets the run end success; a confirmed clear on rows that moved
// changes nothing; marking a running task and clearing it never leaves two live attempts,
// also when the worker of the marked attempt is killed (-9); a cancel stops the run for good;
// every action is in the audit log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { cancelRun, clearTasks, LifecycleConflictError, listAudit, markTasks, type Actor } from '../../src/runs/lifecycle.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { taskStates, waitFor, waitForDag, waitForRunEnd } from '../support/cluster.js';
import { KEEL_BIN, isRunning, killAll, spawnKeel, type KeelProcess } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/lifecycle-dags/', import.meta.url));
const WHO: Actor = { actor: 'ada', workerLostAfterSec: 1, dbOutageGraceSec: 0 };
let t: TestDatabase;
const started: KeelProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'keel-lifecycle-'));

function env(): Record<string, string> {
  return {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_WORKER_CONCURRENCY: '2', KEEL_DB_OUTAGE_GRACE_SEC: '0',
    KEEL_SCHEDULER_LOOP_MS: '200', KEEL_WORKER_POLL_MS: '200', KEEL_WORKER_LOST_AFTER_SEC: '1',
  };
}
function keel(args: string[]): KeelProcess {
  const p = spawnKeel(args, env());
  started.push(p);
  return p;
}
function keelCli(args: string[]) {
  return spawnSync(process.execPath, [KEEL_BIN, ...args], { env: { ...process.env, ...env() }, encoding: 'utf8' });
}
async function componentOf(pid: number): Promise<string> {
  return waitFor(`process ${pid} to register`, async () => (await t.db.query<{ id: string }>(`SELECT id FROM component WHERE pid = $1 AND state = 'running'`, [pid])).rows[0]?.id);
}
interface AttemptRow { attempt_id: string; try_number: number; state: string; started_at: Date; ended_at: Date | null; worker_id: string; log: string }
async function attemptsOf(runId: string, taskId: string): Promise<AttemptRow[]> {
  return (await t.db.query<AttemptRow>(
    `SELECT a.attempt_id, a.try_number, a.state, a.started_at, a.ended_at, a.worker_id, a.log FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id
     WHERE ti.dag_run_id = $1 AND ti.task_id = $2 ORDER BY a.started_at`, [runId, taskId])).rows;
}
/** No two attempts of one task instance were ever live at once: each ended before the next started. */
function assertOneLiveAtATime(attempts: AttemptRow[]): void {
  for (let i = 1; i < attempts.length; i++) {
    const prev = attempts[i - 1]!;
    assert.ok(prev.ended_at, `attempt ${prev.attempt_id} (try ${prev.try_number}) has an end`);
    assert.ok(prev.ended_at <= attempts[i]!.started_at, `attempt ${prev.attempt_id} ended ${prev.ended_at.toISOString()}, after the next one started ${attempts[i]!.started_at.toISOString()}`);
  }
}
const running = (runId: string) => waitFor('the attempt to run', async () =>
  (await t.db.query<{ attempt_id: string; worker_id: string }>(`SELECT attempt_id, worker_id FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [runId])).rows[0], 30000);
const runnerPid = (runId: string) => waitFor('the runner to log its pid', async () => {
  const log = (await attemptsOf(runId, 'sleep')).at(-1)?.log ?? '';
  const m = /runner pid (\d+)/.exec(log);
  return m ? Number(m[1]) : null;
}, 30000);

before(async () => {
  t = await freshDatabase();
  keel(['dag-processor']);
  keel(['scheduler']);
  await waitForDag(t.db, 'lc_chain', 30000);
  await waitForDag(t.db, 'lc_sleep', 30000);
});
after(async () => {
  await killAll(started);
  await t?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

test('clear a failed task with its downstream after a fix: the run goes back to running and ends success; a stale confirmation changes nothing', async () => {
  keel(['worker']);
  const fixed = join(scratch, 'fixed');
  const run = await triggerDag(t.db, 'lc_chain', { params: { fixed } });
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed');
  assert.deepEqual(await taskStates(t.db, run.id), { extract: 'success', transform: 'failed', load: 'upstream_failed', report: 'upstream_failed' });

  // The dialog's list: what a clear of transform with downstream would touch.
  const plan = await clearTasks(t.db, run.id, { taskIds: ['transform'], downstream: true, dryRun: true }, WHO);
  assert.deepEqual(plan.tasks.map((p) => [p.taskId, p.state, p.to]), [['transform', 'failed', 'pending'], ['load', 'upstream_failed', 'pending'], ['report', 'upstream_failed', 'pending']]);
  assert.deepEqual(plan.runState, { from: 'failed', to: 'running' });
  // A confirmation made on another state of the rows is refused and changes nothing.
  const stale = plan.tasks.map((p) => ({ taskId: p.taskId, state: p.taskId === 'transform' ? 'up_for_retry' : p.state, attemptId: p.attemptId }));
  await assert.rejects(clearTasks(t.db, run.id, { taskIds: ['transform'], downstream: true, expected: stale }, WHO), (e: Error) => e instanceof LifecycleConflictError && /transform \(confirmed up_for_retry, now failed\)/.test(e.message));
  assert.equal((await t.db.query(`SELECT state FROM dag_run WHERE id = $1`, [run.id])).rows[0].state, 'failed');
  assert.equal((await listAudit(t.db, { runId: run.id, limit: 10 })).length, 0);

  writeFileSync(fixed, 'ok');
  const cli = keelCli(['tasks', 'clear', run.id, 'transform', '--downstream', '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual((JSON.parse(cli.stdout) as { cleared: string[] }).cleared, ['transform', 'load', 'report']);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await taskStates(t.db, run.id), { extract: 'success', transform: 'success', load: 'success', report: 'success' });
  assert.equal((await attemptsOf(run.id, 'extract')).length, 1, 'extract was not cleared, so it did not run again');

  const audit = keelCli(['audit', '--run', run.id, '--json']);
  assert.equal(audit.status, 0, audit.stderr);
  const rows = (JSON.parse(audit.stdout) as { action: string; actor: string; task_id: string | null; from_state: string; to_state: string }[]).reverse();
  assert.deepEqual(rows.map((r) => [r.action, r.task_id, r.from_state, r.to_state]), [
    ['clear', null, 'failed', 'running'], ['clear', 'transform', 'failed', 'pending'], ['clear', 'load', 'upstream_failed', 'pending'], ['clear', 'report', 'upstream_failed', 'pending'],
  ]);
  assert.ok(rows.every((r) => r.actor.startsWith('cli:')));

  // Clear only the failed ones of a successful run: none; mark the run failed, then success.
  assert.equal((await clearTasks(t.db, run.id, { taskIds: null, onlyFailed: true }, WHO)).tasks.length, 0);
  const failed = await markTasks(t.db, run.id, { state: 'failed', taskIds: ['report'] }, WHO);
  assert.deepEqual(failed.tasks.map((x) => x.taskId), ['report']);
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed');
  await markTasks(t.db, run.id, { state: 'success', taskIds: null }, WHO);
  assert.equal((await t.db.query(`SELECT state FROM dag_run WHERE id = $1`, [run.id])).rows[0].state, 'success');
});

test('mark a running task failed, clear it at once: the clear waits until the stopped attempt ended, never two live attempts', async () => {
  const run = await triggerDag(t.db, 'lc_sleep', { params: { ms: 60000 } });
  const first = await running(run.id);
  const pid = await runnerPid(run.id);
  const marked = await markTasks(t.db, run.id, { state: 'failed', taskIds: ['sleep'] }, WHO);
  assert.deepEqual(marked.tasks.map((x) => [x.taskId, x.state, x.to, x.attemptId]), [['sleep', 'running', 'failed', first.attempt_id]]);
  let refused = 0;
  await waitFor('the clear to be accepted', async () => {
    try {
      await clearTasks(t.db, run.id, { taskIds: ['sleep'] }, WHO);
      return true;
    } catch (err) {
      if (!(err instanceof LifecycleConflictError)) throw err;
      assert.match(err.message, /its stopped attempt has not ended yet/);
      refused++;
      return false;
    }
  }, 30000, 20);
  assert.equal(isRunning(pid), false, 'the marked attempt\'s runner was stopped before the clear went through');
  console.log(`# clears refused while the stopped attempt was ending: ${refused}`);
  await waitFor('the second attempt to run', async () => (await attemptsOf(run.id, 'sleep')).length === 2 && (await attemptsOf(run.id, 'sleep'))[1]!.state === 'running', 30000);
  await cancelRun(t.db, run.id, WHO);
  await waitFor('the cancelled attempt to end', async () => (await attemptsOf(run.id, 'sleep')).every((a) => a.ended_at), 30000);
  const attempts = await attemptsOf(run.id, 'sleep');
  assert.deepEqual(attempts.map((a) => a.state), ['fenced', 'fenced']);
  assertOneLiveAtATime(attempts);
  assert.match((await t.db.query(`SELECT error FROM task_attempt WHERE attempt_id = $1`, [first.attempt_id])).rows[0].error, /marked failed by ada/);
  // A late write was rejected for each stopped attempt (the worker's report after the kill).
  const late = await t.db.query(`SELECT details ->> 'attemptId' AS a FROM ha_event WHERE kind = 'late_write_rejected' AND details ->> 'attemptId' = ANY ($1::text[])`, [attempts.map((a) => a.attempt_id)]);
  assert.equal(late.rowCount, 2);
  // The run row of the clear is there when the scheduler had ended the run (its leaf failed) before the clear.
  assert.deepEqual((await listAudit(t.db, { runId: run.id, limit: 20 })).reverse().filter((r) => !(r.action === 'clear' && r.task_id === null)).map((r) => [r.action, r.task_id, r.from_state, r.to_state]), [
    ['mark_failed', 'sleep', 'running', 'failed'], ['clear', 'sleep', 'failed', 'pending'], ['cancel', null, 'running', 'failed'], ['cancel', 'sleep', 'running', 'failed'],
  ]);
});

test('kill -9 of the worker: a clear of its running task is refused, and of its marked task waits until the worker is gone; one live attempt at a time', async () => {
  const workers = started.filter((p) => p.child.spawnargs.includes('worker'));
  workers.push(keel(['worker']));
  const ids = await Promise.all(workers.map((w) => componentOf(w.child.pid!)));

  // Clear while the attempt runs: refused. Its worker dies: the orphan sweep fences the
  // attempt and, a lost worker being no failure of the task, runs it again at once.
  const run = await triggerDag(t.db, 'lc_sleep', { params: { ms: 3000 } });
  const first = await running(run.id);
  await assert.rejects(clearTasks(t.db, run.id, { taskIds: ['sleep'] }, WHO), /cannot clear while an attempt is live: sleep \(running\)/);
  const victim = workers[ids.indexOf(first.worker_id)]!;
  const pid = await runnerPid(run.id);
  victim.child.kill('SIGKILL');
  assert.equal(await waitForRunEnd(t.db, run.id, 60000), 'success');
  const attempts = await attemptsOf(run.id, 'sleep');
  assert.deepEqual(attempts.map((a) => a.state), ['fenced', 'success']);
  assertOneLiveAtATime(attempts);
  assert.equal(isRunning(pid), false, 'the killed worker\'s runner is gone');

  // Mark a running task failed and kill its worker before it could stop the runner: the
  // attempt's record stays open, and the clear waits until the worker is judged gone.
  const survivors = [keel(['worker'])];
  await componentOf(survivors[0]!.child.pid!);
  const run2 = await triggerDag(t.db, 'lc_sleep', { params: { ms: 3000 } });
  const second = await running(run2.id);
  const pid2 = await runnerPid(run2.id);
  const ownerPid = (await t.db.query<{ pid: number }>(`SELECT pid FROM component WHERE id = $1`, [second.worker_id])).rows[0]!.pid;
  const ownerProcess = started.find((p) => p.child.pid === ownerPid)!;
  await markTasks(t.db, run2.id, { state: 'failed', taskIds: ['sleep'] }, WHO);
  ownerProcess.child.kill('SIGKILL');
  await ownerProcess.exited;
  await waitFor('the clear to be accepted once the worker is gone', async () => {
    try {
      await clearTasks(t.db, run2.id, { taskIds: ['sleep'] }, WHO);
      return true;
    } catch (err) {
      if (!(err instanceof LifecycleConflictError)) throw err;
      return false;
    }
  }, 30000, 50);
  assert.equal(isRunning(pid2), false, 'the runner of the marked attempt died with its worker');
  assert.equal(await waitForRunEnd(t.db, run2.id, 60000), 'success');
  const attempts2 = await attemptsOf(run2.id, 'sleep');
  assert.deepEqual(attempts2.map((a) => a.state), ['fenced', 'success']);
  assertOneLiveAtATime(attempts2);
});

test('runs cancel from the CLI: running attempts are stopped, the run fails, nothing runs after', async () => {
  const run = await triggerDag(t.db, 'lc_sleep', { params: { ms: 60000 } });
  const first = await running(run.id);
  const cli = keelCli(['runs', 'cancel', run.id, '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual((JSON.parse(cli.stdout) as { runState: unknown }).runState, { from: 'running', to: 'failed' });
  await waitFor('the cancelled attempt to end', async () => (await attemptsOf(run.id, 'sleep'))[0]!.ended_at, 30000);
  const again = keelCli(['runs', 'cancel', run.id]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already failed/);
  // Nothing runs after: give the scheduler several turns, the run stays failed with one attempt.
  await waitFor('scheduler turns after the cancel', async () => (await t.db.query(`SELECT 1 FROM dag_run WHERE id = $1 AND last_scheduling_decision IS NULL OR (id = $1 AND ended_at < now() - interval '1 second')`, [run.id])).rowCount, 10000);
  assert.equal((await t.db.query(`SELECT state FROM dag_run WHERE id = $1`, [run.id])).rows[0].state, 'failed');
  const attempts = await attemptsOf(run.id, 'sleep');
  assert.deepEqual(attempts.map((a) => [a.attempt_id, a.state]), [[first.attempt_id, 'fenced']]);
});
