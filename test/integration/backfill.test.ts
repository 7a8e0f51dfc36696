// Backfills with real processes (a DAG processor, two schedulers, a worker, an API server):
// a backfill over N hourly intervals makes exactly N runs, all success, never more than
// max-active-runs active at once although two schedulers drive it; two backfills of
// overlapping ranges started at once: one is refused, no run is made twice; reprocess failed
// runs only the failed dates again; a dry run writes nothing; a cancel stops the runs and
// creates no more; bad input is refused with nothing stored; the REST API does the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createUser } from '../../src/auth/users.js';
import { freePort } from '../../src/free-port.js';
import { createBackfill, BackfillConflictError, type BackfillPlanned, type BackfillRequest } from '../../src/runs/backfill.js';
import { ApiClient } from '../support/api.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { waitFor, waitForDag } from '../support/cluster.js';
import { KEEL_BIN, killAll, spawnKeel, type KeelProcess } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/backfill-dags/', import.meta.url));
let t: TestDatabase;
let api: ApiClient;
const started: KeelProcess[] = [];
const hour = (h: number) => `2026-01-01T${String(h).padStart(2, '0')}:00:00.000Z`;

function env(): Record<string, string> {
  return {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_WORKER_CONCURRENCY: '6', KEEL_DB_OUTAGE_GRACE_SEC: '0',
    KEEL_SCHEDULER_LOOP_MS: '200', KEEL_WORKER_POLL_MS: '200', KEEL_WORKER_LOST_AFTER_SEC: '1',
  };
}
function keel(args: string[], extra: Record<string, string> = {}): KeelProcess {
  const p = spawnKeel(args, { ...env(), ...extra });
  started.push(p);
  return p;
}
function keelCli(args: string[]) {
  return spawnSync(process.execPath, [KEEL_BIN, ...args], { env: { ...process.env, ...env() }, encoding: 'utf8' });
}
/** A CLI command left running (its stdout is a pipe, not a terminal): resolves with its exit code and output. */
function keelCliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [KEEL_BIN, ...args], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stdout, stderr })));
}
type RunRow = { id: string; logical_date: Date; state: string; run_type: string };
const runsOf = async (dagId: string) => (await t.db.query<RunRow>(`SELECT id, logical_date, state, run_type FROM dag_run WHERE dag_id = $1 ORDER BY logical_date, id`, [dagId])).rows;
const backfillRunsOf = async (dagId: string) => (await runsOf(dagId)).filter((r) => r.run_type === 'backfill');
const backfillCount = async () => Number((await t.db.query(`SELECT count(*) AS n FROM backfill`)).rows[0].n);
const backfillState = async (id: string) => (await t.db.query<{ state: string }>(`SELECT state FROM backfill WHERE id = $1`, [id])).rows[0]?.state;
const waitForBackfill = (id: string, state: string, timeoutMs = 60000) => waitFor(`backfill ${id} ${state}`, async () => (await backfillState(id)) === state, timeoutMs);
const attempts = async (runId: string) => Number((await t.db.query(`SELECT count(*) AS n FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1`, [runId])).rows[0].n);
const request = (over: Partial<BackfillRequest>): BackfillRequest => ({ dagId: 'bf_hourly', from: new Date(hour(0)), to: new Date(hour(0)), reprocess: 'none', createdBy: 'test', ...over });

before(async () => {
  t = await freshDatabase();
  const apiPort = await freePort();
  keel(['dag-processor']);
  keel(['scheduler']);
  keel(['scheduler']);
  keel(['worker']);
  keel(['api'], { KEEL_API_PORT: String(apiPort), KEEL_API_DRAIN_SEC: '0', KEEL_SECRET_KEY: 'test-secret-key-0123456789' });
  for (const id of ['bf_hourly', 'bf_flaky', 'bf_slow', 'bf_manual']) await waitForDag(t.db, id, 60000);
  await createUser(t.db, 'ada', 'correct horse', 'op');
  api = new ApiClient(`http://127.0.0.1:${apiPort}`);
  await waitFor('the API server', async () => (await api.login('ada', 'correct horse').catch(() => ({ status: 0 }))).status === 200, 30000);
});
after(async () => {
  await killAll(started);
  await t?.drop();
});

test('a backfill over 6 intervals makes exactly 6 runs, all success, at most max-active-runs active at once under two schedulers; the CLI shows its progress in plain lines', async () => {
  // The most runs of the backfill running at once, sampled from the database while it goes.
  let maxActive = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const n = Number((await t.db.query(`SELECT count(*) AS n FROM dag_run WHERE dag_id = 'bf_hourly' AND run_type = 'backfill' AND state IN ('queued', 'running')`)).rows[0].n);
      maxActive = Math.max(maxActive, n);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const startedAt = performance.now();
  const cli = await keelCliAsync(['dags', 'backfill', 'bf_hourly', '--from', hour(0), '--to', hour(5), '--max-active-runs', '2']);
  const seconds = (performance.now() - startedAt) / 1000;
  sampling = false;
  await sampler;
  assert.equal(cli.status, 0, cli.stderr + cli.stdout);
  assert.match(cli.stdout, /^backfill \d+: 6 logical date\(s\) of bf_hourly .*: 6 to create, 0 to clear, 0 skipped; at most 2 active at once$/m);
  assert.match(cli.stdout, /ended \(0 success, 0 failed, 0 skipped\)|ended \(1 success/, 'a progress line before the end');
  assert.match(cli.stdout, /6\/6 ended \(6 success, 0 failed, 0 skipped\), 0 active, done$/m);
  const runs = (await runsOf('bf_hourly')).filter((r) => r.run_type === 'backfill');
  assert.deepEqual(runs.map((r) => [r.logical_date.toISOString(), r.state]), [0, 1, 2, 3, 4, 5].map((h) => [hour(h), 'success']));
  const linked = (await t.db.query(`SELECT count(DISTINCT dag_run_id) AS n FROM backfill_run WHERE state = 'started'`)).rows[0].n;
  assert.equal(Number(linked), 6);
  assert.ok(maxActive <= 2, `at most 2 active at once, saw ${maxActive}`);
  assert.equal(maxActive, 2, 'two runs did run side by side');
  console.log(`# 6 runs of 0.7 s with 2 at once: ${seconds.toFixed(1)} s from the command to its end`);
});

test('two overlapping backfills started at once: one is refused with a clear message, no run is made twice', async () => {
  const before = await backfillCount();
  const slow = (from: number, to: number, createdBy: string) => createBackfill(t.db, request({ dagId: 'bf_slow', from: new Date(hour(from)), to: new Date(hour(to)), createdBy }));
  // Both creations are made to meet: the DAG row is held until both wait on a lock (on the DAG
  // row itself, as they should; or, were the row not locked, on the insert's foreign key after
  // both had found no overlapping backfill).
  const [racing] = await t.db.inTransaction(async (tx) => {
    await tx.query(`SELECT 1 FROM dag WHERE dag_id = 'bf_slow' FOR UPDATE`);
    const racing = Promise.allSettled([slow(10, 12, 'one'), slow(11, 13, 'two')]);
    await waitFor('both creations waiting on a lock', async () => Number((await t.db.query(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
         AND (query LIKE '%FROM dag WHERE dag_id = $1 FOR UPDATE%' OR query LIKE '%INSERT INTO backfill %')`)).rows[0].n) === 2);
    return [racing]; // not awaited here: the holder commits first
  });
  const both = await racing;
  const won = both.filter((r) => r.status === 'fulfilled');
  const lost = both.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(won.length, 1, JSON.stringify(both.map((r) => r.status)));
  assert.ok(lost[0]!.reason instanceof BackfillConflictError);
  assert.match(lost[0]!.reason.message, /DAG "bf_slow" already has running backfill \d+ \(.*\) overlapping this range; wait for it to end .* or cancel it/);
  assert.equal(await backfillCount(), before + 1);
  // The same from another process, through the CLI, while the first still runs: refused with exit code 2.
  const cli = keelCli(['dags', 'backfill', 'bf_slow', '--from', hour(12), '--to', hour(12), '--no-wait']);
  assert.equal(cli.status, 2, cli.stdout);
  assert.match(cli.stderr, /already has running backfill/);
  const winner = (won[0] as PromiseFulfilledResult<BackfillPlanned>).value;
  const id = winner.id!;
  await waitFor('its three runs running', async () => (await backfillRunsOf('bf_slow')).filter((r) => r.logical_date >= new Date(hour(10)) && r.state === 'running').length === 3, 30000);
  // Through the API: cancelled, its three runs with it.
  const cancel = await api.req('POST', `/api/v1/backfills/${id}/cancel`);
  assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
  assert.equal(cancel.body.cancelledRuns.length, 3);
  const runs = (await backfillRunsOf('bf_slow')).filter((r) => r.logical_date >= new Date(hour(10)));
  assert.deepEqual(runs.map((r) => [r.logical_date.toISOString(), r.state]), winner.dates.map((d) => [d.logicalDate.toISOString(), 'failed']), 'one run per logical date, the winner\'s');
});

test('reprocess failed runs only the failed dates again; a dry run lists the plan and writes nothing', async () => {
  const first = keelCli(['dags', 'backfill', 'bf_flaky', '--from', hour(0), '--to', hour(3)]);
  assert.equal(first.status, 1, 'exit code 1: runs failed');
  assert.match(first.stdout, /4\/4 ended \(2 success, 2 failed, 0 skipped\)/);
  // (The scheduler's own latest run, 23:00, is no part of it.)
  const inRange = async () => (await runsOf('bf_flaky')).filter((r) => r.logical_date <= new Date(hour(4)));
  const runs = await inRange();
  assert.deepEqual(runs.map((r) => r.state), ['success', 'failed', 'success', 'failed']);

  const stored = await backfillCount();
  const dry = keelCli(['dags', 'backfill', 'bf_flaky', '--from', hour(0), '--to', hour(3), '--reprocess', 'failed', '--dry-run', '--json']);
  assert.equal(dry.status, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as { id: string | null; dryRun: boolean; dates: { logicalDate: string; action: string; runId: string | null }[] };
  assert.equal(plan.id, null);
  assert.deepEqual(plan.dates.map((d) => [d.logicalDate, d.action, d.runId]), runs.map((r) => [r.logical_date.toISOString(), r.state === 'failed' ? 'clear' : 'skip', r.id]));
  const dryText = keelCli(['dags', 'backfill', 'bf_flaky', '--from', hour(0), '--to', hour(4), '--dry-run']);
  assert.equal(dryText.status, 0, dryText.stderr);
  assert.match(dryText.stdout, /^dry run, nothing stored: 5 logical date\(s\) of bf_flaky .*: 1 to create, 0 to clear, 4 skipped/m);
  assert.match(dryText.stdout, new RegExp(`${hour(1)}\\s+skip\\s+${runs[1]!.id}\\s+run ${runs[1]!.id} exists \\(failed\\); --reprocess failed would run it again`));
  assert.equal(await backfillCount(), stored, 'the dry runs stored no backfill');
  assert.deepEqual((await inRange()).map((r) => [r.id, r.state]), runs.map((r) => [r.id, r.state]), 'and changed no run');

  const again = keelCli(['dags', 'backfill', 'bf_flaky', '--from', hour(0), '--to', hour(3), '--reprocess', 'failed']);
  assert.equal(again.status, 0, again.stderr + again.stdout);
  assert.match(again.stdout, /4\/4 ended \(2 success, 0 failed, 2 skipped\)/);
  const after = await inRange();
  assert.deepEqual(after.map((r) => [r.id, r.state]), runs.map((r) => [r.id, 'success']), 'the same runs, the failed ones cleared and now success');
  assert.deepEqual(await Promise.all(after.map((r) => attempts(r.id))), [1, 2, 1, 2], 'only the failed dates ran again');
  const audit = (await t.db.query(`SELECT DISTINCT actor, dag_run_id FROM lifecycle_audit WHERE action = 'clear' AND dag_id = 'bf_flaky' ORDER BY dag_run_id`)).rows;
  assert.deepEqual(audit.map((a) => a.dag_run_id), [runs[1]!.id, runs[3]!.id]);
  assert.match(audit[0].actor, /^backfill \d+ by cli:/);
});

test('a cancelled backfill stops its running runs and creates no more', async () => {
  const created = keelCli(['dags', 'backfill', 'bf_slow', '--from', hour(0), '--to', hour(9), '--max-active-runs', '2', '--no-wait', '--json']);
  assert.equal(created.status, 0, created.stderr);
  const id = (JSON.parse(created.stdout) as { id: string }).id;
  const ofThisOne = async () => (await backfillRunsOf('bf_slow')).filter((r) => r.logical_date <= new Date(hour(9)));
  await waitFor('two runs running', async () => (await t.db.query(`SELECT count(*) AS n FROM task_instance ti JOIN dag_run r ON r.id = ti.dag_run_id WHERE r.dag_id = 'bf_slow' AND r.run_type = 'backfill' AND r.logical_date <= $1 AND ti.state = 'running'`, [hour(9)])).rows[0].n === '2', 30000);
  const cancel = keelCli(['backfills', 'cancel', id]);
  assert.equal(cancel.status, 0, cancel.stderr);
  assert.match(cancel.stdout, new RegExp(`^cancelled backfill ${id} \\(bf_slow\\); 2 active run\\(s\\) cancelled: \\d+, \\d+$`, 'm'));
  assert.equal(await backfillState(id), 'cancelled');
  assert.deepEqual((await ofThisOne()).map((r) => r.state), ['failed', 'failed']);
  // Witness: a later backfill, driven by the same scheduler turns, starts and ends; the cancelled one got no run meanwhile.
  const witness = await api.req('POST', '/api/v1/dags/bf_hourly/backfills', { from: hour(10), to: hour(10) });
  assert.equal(witness.status, 201, JSON.stringify(witness.body));
  await waitForBackfill(witness.body.id, 'done');
  assert.equal((await ofThisOne()).length, 2, 'no run was created after the cancel');
  const again = keelCli(['dags', 'backfill', 'cancel', id]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /was already cancelled: backfill \d+ \(bf_slow\); 0 active run\(s\) cancelled/);
  const show = keelCli(['backfills', 'show', id]);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /2\/10 ended \(0 success, 2 failed, 0 skipped\), 0 active, cancelled; .* cancelled by cli:/);
});

test('bad input is refused with a message naming the fix, nothing stored', async () => {
  const stored = await backfillCount();
  const refused = async (over: Partial<BackfillRequest>, pattern: RegExp) =>
    assert.rejects(createBackfill(t.db, request(over)), (e: Error) => pattern.test(e.message), `${JSON.stringify(over)} → ${pattern}`);
  await refused({ dagId: 'bf_manual' }, /cannot backfill DAG "bf_manual": the DAG has no schedule/);
  await refused({ from: new Date(hour(3)), to: new Date(hour(2)) }, /--from .* is after --to .*; swap them/);
  await refused({ from: new Date('2025-12-31T00:00:00Z') }, /before the DAG's startDate 2026-01-01T00:00:00.000Z/);
  await refused({ to: new Date('2026-01-03T00:00:00Z') }, /after the DAG's endDate 2026-01-02T00:00:00.000Z/);
  const cli = keelCli(['dags', 'backfill', 'no_such_dag', '--from', hour(0), '--to', hour(1)]);
  assert.equal(cli.status, 2);
  assert.match(cli.stderr, /unknown DAG id "no_such_dag"; known DAGs: bf_/);
  assert.equal(await backfillCount(), stored);
});

test('REST API: create (and 409 on overlap), progress, the list of a DAG, dates, cancel; bad input is a 400 naming the field', async () => {
  const dry = await api.req('POST', '/api/v1/dags/bf_hourly/backfills', { from: hour(11), to: hour(12), dryRun: true });
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.deepEqual(dry.body.dates.map((d: { logicalDate: string; action: string }) => [d.logicalDate, d.action]), [[hour(11), 'create'], [hour(12), 'create']]);
  const made = await api.req('POST', '/api/v1/dags/bf_hourly/backfills', { from: hour(11), to: hour(12), maxActiveRuns: 1 });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.maxActiveRuns, 1);
  const clash = await api.req('POST', '/api/v1/dags/bf_hourly/backfills', { from: hour(12), to: hour(13) });
  assert.equal(clash.status, 409);
  assert.match(clash.body.message, /already has running backfill/);
  await waitForBackfill(made.body.id, 'done');
  const progress = await api.req('GET', `/api/v1/backfills/${made.body.id}`);
  assert.equal(progress.status, 200);
  assert.deepEqual([progress.body.state, progress.body.total, progress.body.success, progress.body.failed, progress.body.active, progress.body.createdBy], ['done', 2, 2, 0, 0, 'ada']);
  assert.match(progress.body.completedAt, /Z$/);
  const list = await api.req('GET', '/api/v1/dags/bf_hourly/backfills');
  assert.ok(list.body.backfills.some((b: { id: string }) => b.id === made.body.id));
  const dates = await api.req('GET', `/api/v1/backfills/${made.body.id}/dates`);
  assert.deepEqual(dates.body.dates.map((d: { state: string; runState: string }) => [d.state, d.runState]), [['started', 'success'], ['started', 'success']]);
  assert.equal((await api.req('POST', `/api/v1/backfills/${made.body.id}/cancel`)).status, 409, 'a done backfill cannot be cancelled');
  assert.equal((await api.req('GET', '/api/v1/backfills/999999')).status, 404);
  const bad = await api.req('POST', '/api/v1/dags/bf_manual/backfills', { from: hour(0), to: hour(1) });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /no schedule/);
  assert.equal((await api.req('POST', '/api/v1/dags/bf_hourly/backfills', { from: 'yesterday', to: hour(1) })).status, 400);
  assert.equal((await api.req('POST', '/api/v1/dags/nope/backfills', { from: hour(0), to: hour(1) })).status, 404);
});
