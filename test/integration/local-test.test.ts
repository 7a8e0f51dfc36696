// `keel dags test` and `keel tasks test` as a user runs them: real CLI processes on the
// fixture DAGs in test/fixtures/local-test/, with no database. The database URL points at a
// port nobody listens on and the data folder does not exist: a command that touched either
// would fail or create it. The invocations start together, two at a time (each CLI start
// costs about a second), and each test awaits its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectCode, limitedKeel } from '../support/cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/local-test/', import.meta.url));
const DAGS = join(FIXTURES, 'dags');
const scratch = mkdtempSync(join(tmpdir(), 'keel-local-test-'));
const DATA_DIR = join(scratch, 'never-created');
const ENV = { KEEL_DAGS_FOLDER: DAGS, KEEL_DATABASE_URL: 'postgresql://keel@127.0.0.1:9/none', KEEL_DATA_DIR: DATA_DIR, KEEL_DB_CONNECT_RETRY_SEC: '0' };

const keel = limitedKeel(2, ENV);

const runs = {
  ok: keel(['dags', 'test', 'lt_ok', '--params', '{"name": "Ada"}', '--logical-date', '2026-03-01T00:00:00Z']),
  fail: keel(['dags', 'test', 'lt_fail', '--no-retry-delay', '--json']),
  outside: keel(['dags', 'test', 'lt_outside', '--file', join(FIXTURES, 'outside/solo.ts')]),
  notInFolder: keel(['dags', 'test', 'lt_outside']),
  task: keel(['tasks', 'test', 'lt_ok', 'combine', '--upstream', '{"greet": "hi", "shout": "HEY"}']),
};

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('dags test runs the whole DAG: params, logs, a deferral waited on, a shell task, upstream results; exit 0', async () => {
  const r = await runs.ok;
  expectCode(r, 0);
  const out = r.stdout;
  assert.match(out, /^DAG lt_ok from .*local\.ts: run local__2026-03-01T00:00:00\.000Z, params \{"name":"Ada"\}$/m);
  assert.match(out, /^\[greet\] INFO hello, Ada on try 1$/m);
  assert.match(out, /^\[nap\] deferred after [\d.]+ s: waits for time .* \(timeout 30 s\)$/m);
  assert.match(out, /^\[nap\] try 1\/1, resuming from its trigger$/m);
  assert.match(out, /^\[shout\] shouting for Ada in local__2026-03-01T00:00:00\.000Z$/m);
  assert.match(out, /^\[combine\] INFO combined: hello, Ada \+ LOUD$/m);
  assert.match(out, /^\[combine\] success in [\d.]+ s \(try 1\/1\), result \{"text":"hello, Ada \+ LOUD"\}$/m);
  assert.match(out, /^run success in [\d.]+ s$/m);
  // The order follows the dependencies.
  const order = ['greet', 'nap', 'shout', 'combine'].map((id) => out.indexOf(`[${id}] try 1/1`));
  assert.deepEqual([...order].sort((a, b) => a - b), order);
  assert.match(out, /^combine +success +1\/1 +[\d.]+ s +\{"text":"hello, Ada \+ LOUD"\}$/m);
  assert.equal(existsSync(DATA_DIR), false, 'no data folder, no database');
});

test('a task failing every try is retried at once with --no-retry-delay, then fails; downstream upstream_failed, all_done cleanup runs, a timeout kills; exit 1', async () => {
  const r = await runs.fail;
  expectCode(r, 1);
  const result = JSON.parse(r.stdout) as { state: string; tasks: { taskId: string; state: string; tryNumber: number; maxTries: number; error: string | null }[] };
  assert.equal(result.state, 'failed');
  assert.deepEqual(result.tasks.map((t) => [t.taskId, t.state, t.tryNumber, t.maxTries]).sort(), [
    ['after', 'upstream_failed', 0, 1], ['cleanup', 'failed', 1, 1], ['flaky', 'failed', 3, 3], ['slow', 'failed', 1, 1],
  ]);
  const byId = new Map(result.tasks.map((t) => [t.taskId, t]));
  assert.match(byId.get('flaky')!.error!, /always broken \(try 3\)/);
  assert.match(byId.get('slow')!.error!, /timed out after 1s \(executionTimeoutSec\)/);
  assert.match(byId.get('cleanup')!.error!, /exited with code 3/);
  // The progress goes to stderr with --json.
  for (const n of [1, 2]) assert.match(r.stderr, new RegExp(`^\\[flaky\\] failed in [\\d.]+ s \\(try ${n}/3\\): Error: always broken \\(try ${n}\\); up for retry at once \\(--no-retry-delay\\)$`, 'm'));
  assert.match(r.stderr, /^\[flaky\] failed in [\d.]+ s \(try 3\/3\): Error: always broken \(try 3\); no retries left$/m);
  assert.match(r.stderr, /^\[after\] upstream_failed$/m);
  assert.match(r.stderr, /^\[cleanup\] cleaned$/m);
});

test('--file runs a DAG file outside the DAGs folder; without it the DAG is not found, and the error lists the DAGs found', async () => {
  const r = await runs.outside;
  expectCode(r, 0);
  assert.match(r.stdout, /^\[only\] success in [\d.]+ s \(try 1\/1\), result "ran only of lt_outside"$/m);
  const missing = await runs.notInFolder;
  expectCode(missing, 2);
  assert.match(missing.stderr, /DAG "lt_outside" is not defined in the DAGs folder .*local-test\/dags \(DAGs found: lt_fail, lt_ok\)/);
});

test('tasks test runs one task with the upstream results given', async () => {
  const r = await runs.task;
  expectCode(r, 0);
  assert.match(r.stdout, /^task combine of DAG lt_ok from /m);
  assert.match(r.stdout, /^\[combine\] success in [\d.]+ s \(try 1\/1\), result \{"text":"hi \+ HEY"\}$/m);
  assert.doesNotMatch(r.stdout, /\[greet\]/, 'its upstream tasks do not run');
});
