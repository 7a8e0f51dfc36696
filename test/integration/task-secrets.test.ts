// Variables and connections in tasks, with a real `keel standalone` process on the test
// database (its worker holds the secret key; its runners have no database): a function task
// reads a variable and a connection whose password the worker decrypts, and the secrets it
// prints are masked in its stored log; a shell task gets its declared env and its upstream
// results (variables and a file removed after the attempt); a missing variable fails the task
// naming the key; a request forged under another attempt's id is refused; secrets stored
// while an attempt runs, which the worker's known secrets cannot hold, are masked once the
// task fetches them; a wrong env declaration is an import error naming the DAG, task and field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { SecretBox } from '../../src/secrets/secret-box.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { waitFor, waitForDag, waitForRunEnd } from '../support/cluster.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';
import { API_KEY, FORGED_ATTEMPT, LATE_KEY, LATE_PASSWORD, PASSWORD } from '../fixtures/task-secrets/secrets.js';

const DAGS = fileURLToPath(new URL('../fixtures/task-secrets/', import.meta.url));
const KEY = 'task-secrets-integration-key-0123';
const EXTRA_TOKEN = 'tok-Task-Extra-2291';
const SECRETS = [PASSWORD, encodeURIComponent(PASSWORD), API_KEY, EXTRA_TOKEN];
const scratch = mkdtempSync(join(tmpdir(), 'keel-task-secrets-'));
let t: TestDatabase;
let keel: KeelProcess | undefined;

before(async () => {
  t = await freshDatabase();
  await t.db.query(`INSERT INTO connection (conn_id, conn_type, host, port, login, schema, extra, password_encrypted) VALUES ('warehouse', 'postgres', 'db.internal', 5432, 'app', 'sales', $1, $2)`,
    [{ region: 'eu-west-1', api_token: EXTRA_TOKEN }, new SecretBox(KEY).encrypt(PASSWORD)]);
  await t.db.query(`INSERT INTO variable (key, value) VALUES ('greeting', 'hello-world'), ('partner_api_key', $1), ('cfg', '{"batch":50}')`, [API_KEY]);
  keel = spawnKeel(['standalone'], {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_DATA_DIR: scratch, KEEL_SECRET_KEY: KEY, KEEL_API_PORT: '0',
    KEEL_SCHEDULER_LOOP_MS: '200', KEEL_WORKER_POLL_MS: '200', KEEL_DB_OUTAGE_GRACE_SEC: '0', KEEL_WORKER_CONCURRENCY: '2',
  });
  for (const id of ['ts_reads', 'ts_missing', 'ts_forge', 'ts_late']) await waitForDag(t.db, id, 60_000);
});
after(async () => {
  if (keel) await killAll([keel]);
  await t?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

interface TaskRow { task_id: string; state: string; result: unknown; error: string | null; log: string; attempt_id: string }
async function tasksOf(runId: string): Promise<Record<string, TaskRow>> {
  const r = await t.db.query<TaskRow>(`SELECT ti.task_id, ti.state, ti.result, ti.error, a.log, ti.attempt_id FROM task_instance ti JOIN task_attempt a ON a.attempt_id = ti.attempt_id WHERE ti.dag_run_id = $1`, [runId]);
  return Object.fromEntries(r.rows.map((row) => [row.task_id, row]));
}
async function runToEnd(dagId: string): Promise<{ state: string; tasks: Record<string, TaskRow> }> {
  const run = await triggerDag(t.db, dagId);
  const state = await waitForRunEnd(t.db, run.id, 60_000);
  return { state, tasks: await tasksOf(run.id) };
}
function assertMasked(text: string, what: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} does not contain ${s}: ${text}`);
}
/** The JSON after `name=` on a line of a log. */
function logged(log: string, name: string): unknown {
  const m = new RegExp(`\\b${name}=(.*)$`, 'm').exec(log);
  assert.ok(m, `the log has ${name}=: ${log}`);
  return JSON.parse(m[1]!);
}

test('a function task reads variables and a connection with its password decrypted; a shell task gets them as declared env with its upstream results; the secrets are masked in both logs', { timeout: 120_000 }, async () => {
  const { state, tasks } = await runToEnd('ts_reads');
  assert.equal(state, 'success', JSON.stringify(Object.values(tasks).map((x) => [x.task_id, x.state, x.error])));
  const read = tasks.read!;
  assert.deepEqual(read.result, {
    greeting: 'hello-world', defaulted: 'the default', cfg: { batch: 50 }, apiKeyOk: true,
    conn: { connId: 'warehouse', connType: 'postgres', host: 'db.internal', port: 5432, login: 'app', password: 'decrypted', schema: 'sales', extra: { region: 'eu-west-1', api_token: EXTRA_TOKEN } },
  });
  assert.match(read.log, /password \*\*\*, api key \*\*\*/);
  assert.match(read.log, /uri postgres:\/\/app:\*\*\*@db\.internal:5432\/sales\?region=eu-west-1&api_token=\*\*\*/);
  assertMasked(read.log, 'the log of the function task');

  const shell = tasks.shell_env!;
  assert.match(shell.log, new RegExp(`literal=as written greeting=hello-world region=eu-default host=db\\.internal pw=\\*\\*\\* pw-length=${PASSWORD.length}`));
  assert.match(shell.log, /uri=postgres:\/\/app:\*\*\*@db\.internal:5432\/sales\?region=eu-west-1&api_token=\*\*\*/);
  assertMasked(shell.log, 'the log of the shell task');
  assert.match(shell.log, /word=plain-word$/m, 'a string result is in its variable as it is');
  // Printed, the results' secret extra field is masked like any other secret.
  const printed = read.result as { conn: { extra: object } };
  const readMasked = { ...printed, conn: { ...printed.conn, extra: { ...printed.conn.extra, api_token: '***' } } };
  assert.deepEqual(logged(shell.log, 'read'), readMasked, 'another result is JSON');
  assert.deepEqual(logged(shell.log, 'file'), { read: readMasked, word: 'plain-word' }, 'KEEL_UPSTREAM_FILE holds every upstream result by task id');
  const file = shell.result as string;
  assert.match(file, /keel-upstream-.*\/upstream\.json$/);
  assert.equal(existsSync(dirname(file)), false, 'the file and its folder are removed after the attempt');
});

test('a missing variable fails the task with an error naming the key, in a function task and in a shell task\'s env', { timeout: 120_000 }, async () => {
  const { state, tasks } = await runToEnd('ts_missing');
  assert.equal(state, 'failed');
  assert.equal(tasks.needs_variable!.state, 'failed');
  assert.match(tasks.needs_variable!.error!, /variable "no_such_variable" does not exist: create it .* or give a default: ctx\.variables\.get\("no_such_variable", \{ default: … \}\)/);
  assert.equal(tasks.needs_env!.state, 'failed');
  assert.match(tasks.needs_env!.error!, /env\.X: variable "no_such_env_variable" does not exist/);
  assert.doesNotMatch(tasks.needs_env!.log, /should not run/, 'the command does not run without its env');
});

test('a request a task forges under another attempt\'s id is refused; its own is answered', { timeout: 120_000 }, async () => {
  const { state, tasks } = await runToEnd('ts_forge');
  assert.equal(state, 'success', JSON.stringify(tasks.forge?.error));
  const result = tasks.forge!.result as { forged: { ok: boolean; error: string }; own: string };
  assert.equal(result.own, 'hello-world');
  assert.deepEqual(result.forged, { ok: false, error: `refused: this runner runs attempt ${tasks.forge!.attempt_id}, not ${FORGED_ATTEMPT}; a task reads secrets only for its own attempt` });
});

test('secrets stored after an attempt started are masked in its log once the task fetched them', { timeout: 120_000 }, async () => {
  const go = join(scratch, 'go');
  const run = await triggerDag(t.db, 'ts_late', { params: { go } });
  // The attempt's masker was made from the worker's known secrets when it was claimed: these are not among them.
  await waitFor('the attempt to run', async () => (await t.db.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND state = 'running'`, [run.id])).rowCount, 60_000);
  await t.db.query(`INSERT INTO variable (key, value) VALUES ('late_api_key', $1)`, [LATE_KEY]);
  await t.db.query(`INSERT INTO connection (conn_id, conn_type, host, password_encrypted) VALUES ('late_conn', 'http', 'late.example', $1)`, [new SecretBox(KEY).encrypt(LATE_PASSWORD)]);
  writeFileSync(go, '');
  assert.equal(await waitForRunEnd(t.db, run.id, 60_000), 'success');
  const task = (await tasksOf(run.id)).late!;
  assert.equal(task.result, true, 'the task read both');
  assert.match(task.log, /late key \*\*\*, late password \*\*\*/);
  for (const s of [LATE_KEY, LATE_PASSWORD]) assert.ok(!task.log.includes(s), `the log does not contain ${s}: ${task.log}`);
});

test('a wrong env declaration is an import error naming the DAG, the task and the field', async () => {
  const error = await waitFor('the import error of bad-env.ts', async () =>
    (await t.db.query<{ import_error: string | null }>(`SELECT import_error FROM dag_file WHERE fileloc = 'bad-env.ts'`)).rows[0]?.import_error, 60_000);
  assert.match(error, /DAG "ts_bad_env": task "wrong": env\.DB: field must be one of uri, type, host, port, login, password, schema, extra, got "passwd"/);
});
