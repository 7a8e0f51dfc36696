// Issue 11, finding 4: task code saw Keel's secrets and other DAGs' data. Runner processes
// inherited the worker's whole environment (KEEL_DATABASE_URL, KEEL_SECRET_KEY), and a warm
// runner served every DAG, so a task that wrapped process.send captured another DAG's log
// lines and results. Now user code gets an allow-listed environment (plus taskEnvAllow) in
// function and shell tasks, custom triggers and DAG file loading, and a runner serves one DAG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { useCluster, waitForRunEnd } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/security/isolation/', import.meta.url));

// What an operator's worker environment holds. The roles take their options from the test
// (not from this environment); the runners they fork inherit it unless it is filtered.
process.env.KEEL_DATABASE_URL = 'postgres://keel:leaked-db-password@127.0.0.1:1/keel';
process.env.KEEL_SECRET_KEY = 'leaked-secret-key-0123456789';
process.env.SEC_ALLOWED = 'allowed by taskEnvAllow';
process.env.SEC_DENIED = 'not on the allow-list';

const t = useCluster(DAGS, ['sec_env_at_load', 'sec_env_function', 'sec_env_shell', 'sec_env_trigger', 'sec_spy', 'sec_victim'],
  { workerConcurrency: 1, triggererPollMs: 200, taskEnvAllow: 'SEC_ALLOWED' }, ['dag-processor', 'scheduler', 'worker', 'triggerer']);

async function resultOf(dagId: string, taskId: string): Promise<unknown> {
  const run = await triggerDag(t.db, dagId);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success', `${dagId} succeeds`);
  return (await t.db.query<{ result: unknown }>('SELECT result FROM task_instance WHERE dag_run_id = $1 AND task_id = $2', [run.id, taskId])).rows[0]!.result;
}

test('a function task sees none of Keel\'s settings in process.env, only the allow-list and taskEnvAllow', async () => {
  const r = await resultOf('sec_env_function', 'probe') as { names: string[]; allowed: string | null };
  assert.deepEqual(r.names, ['KEEL_RUNNER', 'KEEL_RUNNER_WATCHDOG_MS', 'SEC_ALLOWED'], 'no KEEL_DATABASE_URL, KEEL_SECRET_KEY or KEEL_TEST_ADMIN_URL, no SEC_DENIED');
  assert.equal(r.allowed, 'allowed by taskEnvAllow');
});

test('a shell task gets the same environment plus its task variables', async () => {
  const names = String(await resultOf('sec_env_shell', 'probe')).trim().split(' ');
  assert.ok(names.includes('KEEL_DAG_ID') && names.includes('KEEL_ATTEMPT_ID'), `the task variables are set: ${names}`);
  for (const leaked of ['KEEL_DATABASE_URL', 'KEEL_SECRET_KEY', 'KEEL_TEST_ADMIN_URL', 'SEC_DENIED']) assert.ok(!names.includes(leaked), `${leaked} is withheld: ${names}`);
  assert.ok(names.includes('SEC_ALLOWED'));
});

test('a custom trigger\'s poll and a DAG file\'s top level get the allow-listed environment too', async () => {
  assert.deepEqual(await resultOf('sec_env_trigger', 'probe'), { names: ['SEC_ALLOWED'] });
  const stored = await t.db.query<{ description: string }>(`SELECT serialized->>'description' AS description FROM dag WHERE dag_id = 'sec_env_at_load'`);
  assert.deepEqual(JSON.parse(stored.rows[0]!.description), ['KEEL_DAG_PARSING', 'SEC_ALLOWED']);
});

test('a task of one DAG that patches its runner never sees another DAG\'s messages', async () => {
  assert.deepEqual(await resultOf('sec_spy', 'listen'), [], 'the spy installs itself');
  assert.equal(await resultOf('sec_victim', 'work'), 'victim result');
  // One worker slot: before the fix, the same warm runner served the spy, the victim and the spy again.
  assert.deepEqual(await resultOf('sec_spy', 'listen'), [], 'the victim\'s run request, log line and result never passed through the spy\'s runner');
  const log = await t.db.query<{ log: string }>(`SELECT a.log FROM task_attempt a JOIN task_instance ti ON ti.attempt_id = a.attempt_id WHERE ti.dag_id = 'sec_victim'`);
  assert.match(log.rows[0]!.log, /victim log line/, 'the victim\'s own log is intact');
});
