// Callbacks, run timeouts and deadlines with real processes (a DAG processor, two
// schedulers, two workers): each callback kind is recorded once and runs once with its context; a run
// timeout fails the run and stops its attempt; a missed deadline raises one HA event, one
// step of the metric and one callback; a worker killed (-9) during a callback leaves it to
// the other worker, which runs it again (at least once: two starts, one recorded end, one
// effect); a scheduler killed (-9) inside the transaction that ends a run leaves no trace,
// and the other scheduler records the run's end and its callback once.
// The guarantee: docs/decisions/0008-callbacks-recorded-once.md.
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordCallback } from '../../src/runs/callbacks.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { KeelMetrics } from '../../src/observability/metrics.js';
import { DEBUG_POINT_REACHED } from '../../src/debug-point.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { taskStates, waitFor, waitForDag, waitForRunEnd } from '../support/cluster.js';
import { KEEL_BIN, isRunning, killAll, spawnKeel, type KeelProcess } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/callback-dags/', import.meta.url));
let t: TestDatabase;
const started: KeelProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'keel-callbacks-'));
const schedulers: KeelProcess[] = [];
const workers: KeelProcess[] = [];

function keel(args: string[], extra: Record<string, string> = {}): KeelProcess {
  const p = spawnKeel(args, {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_WORKER_CONCURRENCY: '2', KEEL_DB_OUTAGE_GRACE_SEC: '0',
    KEEL_SCHEDULER_LOOP_MS: '200', KEEL_WORKER_POLL_MS: '200', KEEL_WORKER_LOST_AFTER_SEC: '1', KEEL_ATTEMPT_LEASE_SEC: '15', KEEL_CALLBACK_TIMEOUT_SEC: '4', ...extra,
  });
  started.push(p);
  return p;
}

interface Execution { event: 'start' | 'done'; pid: number; kind: string; callbackId: string; dagId: string; runId: string; taskId?: string; tryNumber?: number; error?: string; state: string; reason?: string; deadline?: string; logicalDate: string }
interface CallbackRow { id: string; kind: string; task_id: string; seq: number; state: string; claims: number; worker_id: string | null; error: string | null }

function dirFor(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  return dir;
}
function executions(dir: string): Execution[] {
  const file = join(dir, 'executions.log');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Execution) : [];
}
const effects = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('effect-')).sort();
async function callbacksOf(runId: string): Promise<CallbackRow[]> {
  return (await t.db.query<CallbackRow>('SELECT id, kind, task_id, seq, state, claims, worker_id, error FROM callback WHERE dag_run_id = $1 ORDER BY kind, task_id, seq', [runId])).rows;
}
/** The run's callbacks once `n` are recorded and all have ended (nothing records more after the run's end). */
const callbacksEnded = (runId: string, n: number, timeoutMs = 30000) => waitFor(`${n} callbacks of run ${runId} to end`, async () => {
  const rows = await callbacksOf(runId);
  return rows.length >= n && rows.every((r) => r.state === 'success' || r.state === 'failed') ? rows : null;
}, timeoutMs);
/** Each callback ran exactly once (one start, one done), and made its effect once. */
function assertRanOnce(dir: string, rows: CallbackRow[]): void {
  const ex = executions(dir);
  for (const r of rows) {
    assert.equal(r.state, 'success', `callback ${r.id} (${r.kind}) ended ${r.state}: ${r.error}`);
    assert.equal(ex.filter((e) => e.callbackId === r.id && e.event === 'start').length, 1, `callback ${r.id} (${r.kind}) started once`);
    assert.equal(ex.filter((e) => e.callbackId === r.id && e.event === 'done').length, 1, `callback ${r.id} (${r.kind}) finished once`);
  }
  assert.equal(ex.length, rows.length * 2, 'no execution of a callback that was not recorded');
  assert.deepEqual(effects(dir), rows.map((r) => `effect-${r.id}`).sort());
}

before(async () => {
  t = await freshDatabase();
  keel(['dag-processor']);
  schedulers.push(keel(['scheduler']), keel(['scheduler']));
  workers.push(keel(['worker']), keel(['worker']));
  for (const id of ['cb_kinds', 'cb_ok', 'cb_timeout', 'cb_deadline', 'cb_slow', 'cb_bad']) await waitForDag(t.db, id, 30000);
});
after(async () => {
  await killAll(started);
  await t?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

test('each callback kind is recorded once per event and runs once with its context', async () => {
  const dir = dirFor('kinds');
  const run = await triggerDag(t.db, 'cb_kinds', { params: { dir } });
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed');
  assert.deepEqual(await taskStates(t.db, run.id), { flaky: 'success', doomed: 'failed' });
  const rows = await callbacksEnded(run.id, 4);
  assert.deepEqual(rows.map((r) => [r.kind, r.task_id, r.seq]), [
    ['on_failure', '', 1], ['on_failure', 'doomed', 1], ['on_retry', 'flaky', 1], ['on_success', 'flaky', 2],
  ]);
  assertRanOnce(dir, rows);
  const ctx = (kind: string, taskId: string) => executions(dir).find((e) => e.kind === kind && (e.taskId ?? '') === taskId && e.event === 'start')!;
  const common = { dagId: 'cb_kinds', runId: run.runId, logicalDate: run.logicalDate.toISOString() };
  assert.deepEqual({ ...ctx('on_retry', 'flaky'), pid: 0 }, { event: 'start', pid: 0, kind: 'on_retry', callbackId: rows[2]!.id, ...common, taskId: 'flaky', tryNumber: 1, state: 'up_for_retry', error: ctx('on_retry', 'flaky').error });
  assert.match(ctx('on_retry', 'flaky').error!, /first try fails/);
  assert.equal(ctx('on_success', 'flaky').tryNumber, 2);
  assert.equal(ctx('on_success', 'flaky').state, 'success');
  assert.equal(ctx('on_success', 'flaky').error, undefined);
  assert.match(ctx('on_failure', 'doomed').error!, /doomed to fail/);
  assert.equal(ctx('on_failure', 'doomed').state, 'failed');
  const runFailure = ctx('on_failure', '');
  assert.equal(runFailure.taskId, undefined);
  assert.equal(runFailure.tryNumber, undefined);
  assert.equal(runFailure.state, 'failed');
  assert.equal(runFailure.runId, run.runId);

  const okDir = dirFor('ok');
  const okRun = await triggerDag(t.db, 'cb_ok', { params: { dir: okDir } });
  assert.equal(await waitForRunEnd(t.db, okRun.id), 'success');
  const okRows = await callbacksEnded(okRun.id, 1);
  assert.deepEqual(okRows.map((r) => [r.kind, r.task_id, r.seq]), [['on_success', '', 1]]);
  assertRanOnce(okDir, okRows);
});

test('a callback that throws, or outlives callbackTimeoutSec, is recorded failed and not run again', async () => {
  const dir = dirFor('bad');
  const run = await triggerDag(t.db, 'cb_bad', { params: { dir } });
  assert.equal(await waitForRunEnd(t.db, run.id), 'success', 'a callback does not change its event');
  const rows = await callbacksEnded(run.id, 2);
  assert.deepEqual(rows.map((r) => [r.kind, r.task_id, r.state, r.claims]), [['on_success', '', 'failed', 1], ['on_success', 'fine', 'failed', 1]]);
  assert.match(rows[0]!.error!, /the pager is down/);
  assert.match(rows[1]!.error!, /the callback timed out after 4s \(callbackTimeoutSec\)/);
  assert.deepEqual(executions(dir).map((e) => [e.event, e.callbackId]).sort(), [['start', rows[0]!.id], ['start', rows[1]!.id]].sort());
});

test('recording one event twice (a retried or doubled transaction) leaves one row; another try or run end is another event', async () => {
  const run = (await t.db.query<{ id: string }>(`SELECT id FROM dag_run WHERE dag_id = 'cb_kinds' LIMIT 1`)).rows[0]!;
  const recorded = await t.db.inTransaction(async (tx) => [
    await recordCallback(tx, { kind: 'on_retry', dagRunId: run.id, taskId: 'flaky', tryNumber: 1 }, 'nobody', { state: 'up_for_retry' }),
    await recordCallback(tx, { kind: 'on_failure', dagRunId: run.id, runEnd: 1 }, 'nobody', { state: 'failed' }),
    await recordCallback(tx, { kind: 'on_retry', dagRunId: run.id, taskId: 'flaky', tryNumber: 7 }, 'nobody', { state: 'up_for_retry' }),
    await recordCallback(tx, { kind: 'on_failure', dagRunId: run.id, runEnd: 2 }, 'nobody', { state: 'failed' }),
  ]);
  assert.deepEqual(recorded, [false, false, true, true]);
  const rows = (await t.db.query<{ kind: string; task_id: string; seq: number }>(`SELECT kind, task_id, seq FROM callback WHERE dag_run_id = $1 AND queue = 'nobody' ORDER BY id`, [run.id])).rows;
  assert.deepEqual(rows, [{ kind: 'on_retry', task_id: 'flaky', seq: 7 }, { kind: 'on_failure', task_id: '', seq: 2 }]);
});

test('a run past its dagRunTimeoutSec is failed, its attempt stopped, and its onFailure runs once with reason timed_out', async () => {
  const dir = dirFor('timeout');
  const run = await triggerDag(t.db, 'cb_timeout', { params: { dir, ms: 60000 } });
  const pid = await waitFor('the runner to log its pid', async () => {
    const log = (await t.db.query<{ log: string }>(`SELECT a.log FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1`, [run.id])).rows[0]?.log ?? '';
    const m = /runner pid (\d+)/.exec(log);
    return m ? Number(m[1]) : null;
  }, 30000);
  assert.equal(await waitForRunEnd(t.db, run.id, 20000), 'failed');
  const r = (await t.db.query<{ started_at: Date; ended_at: Date }>('SELECT started_at, ended_at FROM dag_run WHERE id = $1', [run.id])).rows[0]!;
  assert.ok(r.ended_at.getTime() - r.started_at.getTime() >= 2000, 'not failed before its timeout');
  assert.deepEqual(await taskStates(t.db, run.id), { sleep: 'failed' });
  await waitFor('the stopped attempt\'s runner to be gone', async () => !isRunning(pid), 15000);
  // Its worker records the stopped attempt's end once its runner is gone.
  const attempts = await waitFor('the stopped attempt to be recorded ended', async () => {
    const rows = (await t.db.query<{ state: string; ended_at: Date | null }>(`SELECT a.state, a.ended_at FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1`, [run.id])).rows;
    return rows.every((r) => r.ended_at) ? rows : null;
  }, 15000);
  assert.equal(attempts.length, 1);
  const audit = (await t.db.query<{ action: string; task_id: string | null }>('SELECT action, task_id FROM lifecycle_audit WHERE dag_run_id = $1 ORDER BY id', [run.id])).rows;
  assert.deepEqual(audit, [{ action: 'timeout', task_id: null }, { action: 'timeout', task_id: 'sleep' }]);
  const rows = await callbacksEnded(run.id, 1);
  assert.deepEqual(rows.map((x) => [x.kind, x.task_id]), [['on_failure', '']]);
  assertRanOnce(dir, rows);
  const ctx = executions(dir)[0]!;
  assert.equal(ctx.reason, 'timed_out');
  assert.match(ctx.error!, /timed out/);
});

test('a run not finished by its deadline raises one HA event, one step of the metric and one onDeadlineMissed, and goes on', async () => {
  const dir = dirFor('deadline');
  const metric = async () => {
    const text = await new KeelMetrics(t.db).registry.metrics();
    return Number(/^keel_dag_run_deadlines_missed_total\{dag_id="cb_deadline"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  assert.equal(await metric(), 0);
  const run = await triggerDag(t.db, 'cb_deadline', { params: { dir, ms: 4000 } });
  assert.equal(await waitForRunEnd(t.db, run.id), 'success', 'a missed deadline does not stop the run');
  const rows = await callbacksEnded(run.id, 2);
  assert.deepEqual(rows.map((x) => [x.kind, x.task_id, x.seq]), [['on_deadline_missed', '', 0], ['on_success', '', 1]]);
  assertRanOnce(dir, rows);
  const events = (await t.db.query<{ details: { dagRunId: string; deadline: string; state: string } }>(`SELECT details FROM ha_event WHERE kind = 'deadline_missed'`)).rows;
  assert.equal(events.length, 1);
  assert.equal(events[0]!.details.dagRunId, run.id);
  assert.equal(events[0]!.details.state, 'running');
  const r = (await t.db.query<{ created_at: Date; deadline_at: Date; deadline_missed_at: Date }>('SELECT created_at, deadline_at, deadline_missed_at FROM dag_run WHERE id = $1', [run.id])).rows[0]!;
  assert.equal(r.deadline_at.getTime() - r.created_at.getTime(), 1000, 'deadline = queued time + afterQueuedSec');
  assert.ok(r.deadline_missed_at >= r.deadline_at);
  const missed = executions(dir).find((e) => e.kind === 'on_deadline_missed')!;
  assert.equal(missed.deadline, r.deadline_at.toISOString());
  assert.equal(missed.state, 'running');
  assert.equal(await metric(), 1);
  const shown = spawnSync(process.execPath, [KEEL_BIN, 'runs', 'show', run.id, '--json'], { env: { ...process.env, KEEL_DATABASE_URL: t.url }, encoding: 'utf8' });
  assert.equal(shown.status, 0, shown.stderr);
  const json = JSON.parse(shown.stdout) as { deadline_missed_at: string | null; callbacks: { id: string; kind: string; task_id: string | null; state: string; claims: number }[] };
  assert.ok(json.deadline_missed_at);
  assert.deepEqual(json.callbacks.map((c) => [c.kind, c.task_id, c.state, c.claims]), [['on_deadline_missed', null, 'success', 1], ['on_success', null, 'success', 1]]);
});

test('a worker killed (-9) during a callback: the other worker runs it again; one record, one recorded end, one effect', async (tc) => {
  const dir = dirFor('worker-kill');
  const run = await triggerDag(t.db, 'cb_slow', { params: { dir } });
  const first = await waitFor('the callback to start', async () => executions(dir).find((e) => e.event === 'start'), 30000);
  const holder = (await callbacksOf(run.id))[0]!;
  assert.equal(holder.state, 'running');
  const pid = (await t.db.query<{ pid: number }>('SELECT pid FROM component WHERE id = $1', [holder.worker_id])).rows[0]!.pid;
  const victim = workers.find((w) => w.child.pid === pid)!;
  assert.ok(victim, 'the callback runs on one of the two workers');
  victim.child.kill('SIGKILL');
  await victim.exited;
  await waitFor('the killed worker\'s runner to be gone', async () => !isRunning(first.pid), 15000);
  writeFileSync(join(dir, 'release'), '');
  const killedAt = Date.now();
  // Well before the 15 s lease: the worker's session lock is gone, so it is known dead.
  const rows = await callbacksEnded(run.id, 1, 12000);
  tc.diagnostic(`callback re-run and ended ${Date.now() - killedAt} ms after its worker was killed`);
  assert.equal(rows.length, 1, 'one record of the run\'s end');
  assert.equal(rows[0]!.state, 'success');
  assert.equal(rows[0]!.claims, 2, 'claimed again after its worker was lost');
  assert.notEqual(rows[0]!.worker_id, holder.worker_id);
  const ex = executions(dir);
  assert.equal(ex.filter((e) => e.event === 'start').length, 2, 'at least once: the killed execution and its re-run');
  assert.equal(ex.filter((e) => e.event === 'done').length, 1, 'one execution finished');
  assert.ok(ex.every((e) => e.callbackId === rows[0]!.id), 'both executions carry the same callback id');
  assert.deepEqual(effects(dir), [`effect-${rows[0]!.id}`]);
  const lost = (await t.db.query<{ reason: string }>(`SELECT details->>'reason' AS reason FROM ha_event WHERE kind = 'callback_lost' AND details->>'callbackId' = $1`, [rows[0]!.id])).rows;
  assert.deepEqual(lost, [{ reason: 'worker_gone' }], 'taken back as soon as the worker was known dead, not at lease expiry');
});

test('a scheduler killed (-9) inside the transaction that ends a run: the other scheduler records the end and its callback once', async () => {
  // The scheduler that will stop inside the run's end must be the one that ends it: it runs
  // alone until then; the second scheduler starts while it is stopped there. Two workers.
  for (const s of schedulers) s.child.kill('SIGKILL');
  await Promise.all(schedulers.map((s) => s.exited));
  const stopping = keel(['scheduler'], { KEEL_DEBUG_STOP_AT: 'run_end' });
  if (workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length < 2) workers.push(keel(['worker']));
  const dir = dirFor('scheduler-kill');
  const run = await triggerDag(t.db, 'cb_timeout', { params: { dir, ms: 60000 } });
  await waitFor('the scheduler to stop inside the run\'s end', async () => stopping.output().includes(`${DEBUG_POINT_REACHED} run_end`), 30000);
  // Recorded in the open transaction, seen by nobody else.
  assert.deepEqual(await callbacksOf(run.id), []);
  keel(['scheduler']);
  stopping.child.kill('SIGKILL');
  await stopping.exited;
  assert.equal(await waitForRunEnd(t.db, run.id, 30000), 'failed');
  const rows = await callbacksEnded(run.id, 1);
  assert.deepEqual(rows.map((x) => [x.kind, x.task_id, x.seq]), [['on_failure', '', 1]]);
  assertRanOnce(dir, rows);
});
