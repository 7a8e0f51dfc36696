// The `keel` command as a user runs it: a real process (node bin/keel.js) against the test
// database, checked by exit code and output. Exit codes: 0 ok, 1 failure, 2 bad usage/input.
// A DAG processor, scheduler and worker run in-process so that triggered and cleared runs
// really run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { LATEST_SCHEMA_VERSION } from '../../src/db/migrate.js';
import { taskStates, useCluster, waitFor, waitForRunEnd } from '../support/cluster.js';
import { expectCode, runKeel, type CliResult } from '../support/cli.js';

const DAGS = fileURLToPath(new URL('../fixtures/cli/', import.meta.url));
const t = useCluster(DAGS, ['cli_dag']);

/** Runs `keel <args>` in the repository with only the given KEEL_* variables set. */
const keel = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runKeel(args, { KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, ...env });

async function runCount(): Promise<number> {
  return (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dag_run')).rows[0]!.n;
}

test('dags list --json lists the DAG and the import errors', async () => {
  const r = await keel(['dags', 'list', '--json']);
  expectCode(r, 0);
  const out = JSON.parse(r.stdout) as { dags: { dag_id: string; active: boolean; paused: boolean; fileloc: string }[]; importErrors: unknown[] };
  assert.deepEqual(out.dags.map((d) => [d.dag_id, d.active, d.paused, d.fileloc]), [['cli_dag', true, false, 'cli.ts']]);
  assert.deepEqual(out.importErrors, []);
});

test('db status shows every migration applied', async () => {
  const r = await keel(['db', 'status', '--json']);
  expectCode(r, 0);
  const rows = JSON.parse(r.stdout) as { version: number; state: string }[];
  // Versions may have gaps (numbers reserved for work in progress): one row per migration file.
  assert.equal(rows.length, readdirSync(new URL('../../src/db/migrations/', import.meta.url)).filter((f) => f.endsWith('.sql')).length);
  assert.ok(rows.every((x) => x.state === 'applied'));
  assert.equal(rows.at(-1)!.version, LATEST_SCHEMA_VERSION);
});

test('bad input exits 2 with a message that names the problem, and writes nothing', async () => {
  const before = await runCount();
  const cases: [string[], RegExp][] = [
    [['dags', 'trigger', 'no_such_dag'], /unknown DAG id "no_such_dag"/],
    [['dags', 'trigger', 'cli_dag', '--params', 'not json'], /--params: not valid JSON/],
    [['dags', 'trigger', 'cli_dag', '--params', '{"bad":1}'], /unknown param "bad"/],
    [['dags', 'trigger', 'cli_dag', '--params', '{"n":-1}'], /param "n": must be >= 0/],
    [['runs', 'list', '--limit', '0'], /--limit must be a positive integer, got "0"/],
    [['runs', 'show', 'abc'], /run id must be a numeric id.*"abc"/],
    [['dags', 'frobnicate'], /unknown command 'frobnicate'/],
  ];
  // Independent commands: two side by side (all seven at once starve each other of CPU on a
  // loaded 2-core machine until one passes the per-command time limit).
  const results: CliResult[] = [];
  for (let i = 0; i < cases.length; i += 2) results.push(...await Promise.all(cases.slice(i, i + 2).map(([args]) => keel(args))));
  results.forEach((r, i) => {
    const [args, message] = cases[i]!;
    expectCode(r, 2);
    assert.match(r.stderr, message, `keel ${args.join(' ')}`);
  });
  assert.equal(await runCount(), before, 'no run was created');
});

test('an unreachable database exits 1 saying so', async () => {
  const r = await keel(['dags', 'list'], { KEEL_DATABASE_URL: 'postgres://keel:keel@127.0.0.1:1/x', KEEL_DB_CONNECT_RETRY_SEC: '1' });
  expectCode(r, 1);
  assert.match(r.stderr, /cannot reach the database at postgres:\/\/keel:\*\*\*@127\.0\.0\.1:1\/x/);
  assert.doesNotMatch(r.stderr + r.stdout, /keel:keel@/, 'the password is not printed');
});

test('trigger, show, logs, then clear makes the finished run run again', async () => {
  const trig = await keel(['dags', 'trigger', 'cli_dag', '--params', '{"n":21}', '--json']);
  expectCode(trig, 0);
  const run = JSON.parse(trig.stdout) as { id: string; params: Record<string, unknown> };
  assert.deepEqual(run.params, { n: 21 });
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');

  // Read-only commands, side by side.
  const [list, show, logsA, logsB, noLogs] = await Promise.all([
    keel(['runs', 'list', '--dag', 'cli_dag', '--json']),
    keel(['runs', 'show', run.id, '--json']),
    keel(['tasks', 'logs', run.id, 'a']),
    keel(['tasks', 'logs', run.id, 'b']),
    keel(['tasks', 'logs', run.id, 'zzz']),
  ]);
  expectCode(list, 0);
  assert.deepEqual((JSON.parse(list.stdout) as { id: string; state: string }[]).map((x) => [x.id, x.state]), [[run.id, 'success']]);
  expectCode(show, 0);
  const shown = JSON.parse(show.stdout) as { state: string; params: unknown; tasks: { task_id: string; state: string; try_number: number }[] };
  assert.equal(shown.state, 'success');
  assert.deepEqual(shown.params, { n: 21 });
  assert.deepEqual(shown.tasks.map((x) => [x.task_id, x.state, x.try_number]), [['a', 'success', 1], ['b', 'success', 1]]);
  expectCode(logsA, 0);
  assert.match(logsA.stdout, /--- try 1, attempt [0-9a-f-]{36}, success/);
  assert.match(logsA.stdout, /a got n=21 on try 1/);
  expectCode(logsB, 0);
  assert.match(logsB.stdout, /b sees n=21 try=1/);
  expectCode(noLogs, 2);
  assert.match(noLogs.stderr, /no attempts of task "zzz"/);

  const clear = await keel(['tasks', 'clear', run.id, '--json']);
  expectCode(clear, 0);
  assert.deepEqual((JSON.parse(clear.stdout) as { cleared: string[] }).cleared.sort(), ['a', 'b']);
  // The run goes back to running and finishes again, each task on a second try.
  await waitFor('the cleared run to run again', async () => {
    const r = await t.db.query<{ state: string }>(`SELECT state FROM task_instance WHERE dag_run_id = $1 AND task_id = 'b'`, [run.id]);
    return r.rows[0]!.state === 'success' && (await t.db.query(`SELECT 1 FROM task_attempt a JOIN task_instance ti ON ti.id = a.task_instance_id WHERE ti.dag_run_id = $1 AND ti.task_id = 'b' AND a.try_number = 2 AND a.state = 'success'`, [run.id])).rowCount;
  }, 30000);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await taskStates(t.db, run.id), { a: 'success', b: 'success' });
  const tries = await t.db.query<{ task_id: string; try_number: number; result: unknown }>('SELECT task_id, try_number, result FROM task_instance WHERE dag_run_id = $1 ORDER BY task_id', [run.id]);
  assert.deepEqual(tries.rows, [{ task_id: 'a', try_number: 2, result: 42 }, { task_id: 'b', try_number: 2, result: 'b sees n=21 try=2' }]);
  const logs2 = await keel(['tasks', 'logs', run.id, 'b', '--try', '2']);
  expectCode(logs2, 0);
  assert.match(logs2.stdout, /b sees n=21 try=2/);
  assert.doesNotMatch(logs2.stdout, /try=1/);
});
