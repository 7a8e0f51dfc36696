// The worker's side of tasks' variables and connections (src/worker/task-secrets.ts): it
// answers only for the attempt the asking runner runs, decrypts passwords only with its key,
// and masks what it hands out in that attempt's log at once, known secrets loaded or not.
// Then through a real runner process (src/worker/runner-pool.ts): a task reads a variable, and
// the request it forges under another attempt's id is refused. The database is a stand-in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Database } from '../../src/db/database.js';
import { sql } from '../../src/db/sql.js';
import { createLogger } from '../../src/log.js';
import { SecretBox } from '../../src/secrets/secret-box.js';
import { SecretMasker } from '../../src/secrets/masker.js';
import { AttemptLog } from '../../src/worker/attempt-log.js';
import { RunnerPool } from '../../src/worker/runner-pool.js';
import type { RunRequest, SecretMessage } from '../../src/worker/runner-protocol.js';
import { TaskSecrets, type RunningAttempt } from '../../src/worker/task-secrets.js';
import { FORGED_ATTEMPT } from '../fixtures/task-secrets/secrets.js';

const log = createLogger({ level: 'silent', format: 'json' });
const KEY = 'unit-test-secret-key-0123456789';
const PASSWORD = 'pw-Unit-Secret-4401';
const EXTRA_TOKEN = 'tok-Unit-Extra-7781';
const ATTEMPT = '00000000-0000-4000-8000-000000000001';

/** A database stand-in holding one variable of each kind and two connections; counts statements. */
function fakeDb() {
  const box = new SecretBox(KEY);
  const variables: Record<string, string> = { greeting: 'hello-world', partner_api_key: 'var-Unit-Key-5510' };
  const connections: Record<string, unknown> = {
    warehouse: { conn_id: 'warehouse', conn_type: 'postgres', host: 'db.internal', port: 5432, login: 'app', schema: 'sales', extra: { region: 'eu', api_token: EXTRA_TOKEN }, password_encrypted: box.encrypt(PASSWORD) },
    open: { conn_id: 'open', conn_type: 'http', host: 'example.org', port: null, login: null, schema: null, extra: {}, password_encrypted: null },
  };
  const db = {
    statements: 0,
    async query(text: string, values: string[]) {
      db.statements++;
      if (text === sql('worker/variable_for_task')) return { rows: values[0]! in variables ? [{ value: variables[values[0]!] }] : [] };
      if (text === sql('worker/connection_for_task')) return { rows: values[0]! in connections ? [connections[values[0]!]] : [] };
      throw new Error(`unexpected statement ${text}`);
    },
    withRetry: <T>(fn: () => Promise<T>) => fn(),
  };
  return db;
}

const ask = (attemptId: string, request: SecretMessage['request']): SecretMessage => ({ type: 'secret', attemptId, requestId: 1, request });
const attempt = (): RunningAttempt => ({ attemptId: ATTEMPT, log: new AttemptLog(1 << 20, new SecretMasker([])) });

test('a request under another attempt\'s id, or from a runner that runs none, is refused without reading anything', async () => {
  const db = fakeDb();
  const secrets = new TaskSecrets(db as unknown as Database, new SecretBox(KEY), log);
  const other = await secrets.answer(attempt(), ask(FORGED_ATTEMPT, { kind: 'variable', key: 'partner_api_key' }));
  assert.deepEqual(other, { ok: false, error: `refused: this runner runs attempt ${ATTEMPT}, not ${FORGED_ATTEMPT}; a task reads secrets only for its own attempt` });
  const none = await secrets.answer(null, ask(ATTEMPT, { kind: 'connection', connId: 'warehouse' }));
  assert.equal(none.ok, false);
  assert.equal((none as { error: string }).error, `refused: attempt ${ATTEMPT} is not running in this runner (it ended, or was stopped)`);
  const malformed = await secrets.answer(attempt(), { type: 'secret', attemptId: ATTEMPT, requestId: 2, request: { kind: 'file', path: '/etc/passwd' } as unknown as SecretMessage['request'] });
  assert.equal(malformed.ok, false);
  assert.equal(db.statements, 0, 'no statement ran for a refused request');
});

test('a fetched password, sensitive extra field and sensitive variable are masked in the attempt\'s log from the answer on; others are not', async () => {
  const secrets = new TaskSecrets(fakeDb() as unknown as Database, new SecretBox(KEY), log);
  const running = attempt();
  const conn = await secrets.answer(running, ask(ATTEMPT, { kind: 'connection', connId: 'warehouse' }));
  assert.deepEqual(conn, { ok: true, value: { connId: 'warehouse', connType: 'postgres', host: 'db.internal', port: 5432, login: 'app', password: PASSWORD, schema: 'sales', extra: { region: 'eu', api_token: EXTRA_TOKEN } } });
  assert.deepEqual(await secrets.answer(running, ask(ATTEMPT, { kind: 'variable', key: 'partner_api_key' })), { ok: true, value: 'var-Unit-Key-5510' });
  assert.deepEqual(await secrets.answer(running, ask(ATTEMPT, { kind: 'variable', key: 'greeting' })), { ok: true, value: 'hello-world' });
  assert.deepEqual(await secrets.answer(running, ask(ATTEMPT, { kind: 'variable', key: 'absent' })), { ok: true, value: null });
  assert.deepEqual(await secrets.answer(running, ask(ATTEMPT, { kind: 'connection', connId: 'absent' })), { ok: true, value: null });
  running.log.add(`pw ${PASSWORD} in postgres://app:${encodeURIComponent(PASSWORD)}@db, token ${EXTRA_TOKEN}, key var-Unit-Key-5510, greeting hello-world`);
  assert.match(running.log.text(), /pw \*\*\* in postgres:\/\/app:\*\*\*@db, token \*\*\*, key \*\*\*, greeting hello-world\n$/);
  assert.match(running.log.masker.mask(`Error: login failed for ${PASSWORD}`), /login failed for \*\*\*$/, 'the task\'s error is masked the same way');
  const other = attempt();
  other.log.add(`pw ${PASSWORD}`);
  assert.match(other.log.text(), new RegExp(PASSWORD), 'only the attempt that was handed the secret learns it (the worker\'s known secrets cover the others)');
});

test('a worker without secretKey, or with another key, says so naming the fix; a connection without a password needs no key', async () => {
  const keyless = new TaskSecrets(fakeDb() as unknown as Database, null, log);
  assert.deepEqual(await keyless.answer(attempt(), ask(ATTEMPT, { kind: 'connection', connId: 'warehouse' })), {
    ok: false, error: 'connection "warehouse" has a password, but this worker has no secretKey to decrypt it: give every worker the API\'s key (KEEL_SECRET_KEY)',
  });
  const open = await keyless.answer(attempt(), ask(ATTEMPT, { kind: 'connection', connId: 'open' }));
  assert.equal(open.ok && (open.value as { password: unknown }).password, null);
  const wrongKey = await new TaskSecrets(fakeDb() as unknown as Database, new SecretBox('another-key-entirely-0000'), log).answer(attempt(), ask(ATTEMPT, { kind: 'connection', connId: 'warehouse' }));
  assert.match((wrongKey as { error: string }).error, /^the password of connection "warehouse" does not decrypt with this worker's secretKey: give every worker the API's key/);
});

const FILE = fileURLToPath(new URL('../fixtures/task-secrets/secrets.ts', import.meta.url));
let pool: RunnerPool;
let served: { running: string | null; asked: string }[] = [];
const secrets = new TaskSecrets(fakeDb() as unknown as Database, new SecretBox(KEY), log);

before(async () => {
  pool = new RunnerPool({
    size: 1, spares: 0, memoryMb: 256, maxTasksPerRunner: 100, watchdogMs: 0, envAllow: [], log,
    answerSecret: (running, m) => {
      served.push({ running, asked: m.attemptId });
      return secrets.answer(running === null ? null : { attemptId: running, log: new AttemptLog(1 << 20, new SecretMasker([])) }, m);
    },
  });
  await pool.start();
});
after(async () => { await pool.close(); });

test('through a real runner: the task\'s own request is answered, one it forges under another attempt\'s id is refused', { timeout: 60_000 }, async () => {
  served = [];
  const at = '2026-01-01T00:00:00.000Z';
  const req: RunRequest = {
    type: 'run', attemptId: ATTEMPT, file: FILE, dagId: 'ts_forge', taskId: 'forge', kind: 'function', resultMaxBytes: 1 << 20,
    context: { dagId: 'ts_forge', runId: 'r', taskId: 'forge', logicalDate: at, dataIntervalStart: at, dataIntervalEnd: at, tryNumber: 1, maxTries: 1, attemptId: ATTEMPT, params: {}, upstream: {}, resumed: false, triggerEvent: null },
  };
  const out = await pool.run(req, 60, () => {}, new AbortController().signal);
  assert.ok(out.ok, JSON.stringify(out));
  const result = out.result as { forged: { ok: boolean; error: string }; own: string };
  assert.equal(result.own, 'hello-world');
  assert.equal(result.forged.ok, false);
  assert.match(result.forged.error, new RegExp(`^refused: this runner runs attempt ${ATTEMPT}, not ${FORGED_ATTEMPT}`));
  assert.deepEqual(served, [{ running: ATTEMPT, asked: FORGED_ATTEMPT }, { running: ATTEMPT, asked: ATTEMPT }], 'the pool names the attempt it gave the runner, whatever the message says');
});
