// A shell task's declared env and upstream variables (src/core/task-env.ts), the accessors a
// function task reads variables and connections with (src/sdk/secret-accessors.ts): pure,
// no server, no runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateDag } from '../../src/core/dag-graph.js';
import { connectionField, connectionUri, shellEnvProblems, upstreamEnvName, upstreamEnvProblems, upstreamEnvValue } from '../../src/core/task-env.js';
import type { SecretRequest, TaskConnection } from '../../src/core/types.js';
import { dag } from '../../src/sdk/dag.js';
import { resolveShellEnv, secretAccessors, type FetchSecret } from '../../src/sdk/secret-accessors.js';
import { serializeDag } from '../../src/sdk/serialize.js';

const CONN: TaskConnection = {
  connId: 'warehouse', connType: 'google_cloud', host: 'db.internal', port: 5432, login: 'app user', password: 'p@ss/w:rd',
  schema: 'sales', extra: { sslmode: 'require', retries: 3 },
};

test('a valid env declaration has no problems: literals, variables with defaults, connection fields', () => {
  assert.deepEqual(shellEnvProblems({
    MODE: 'full', _X1: '', TOKEN: { variable: 'api_token' }, REGION: { variable: 'region', default: 'eu' },
    DB_URL: { connection: 'warehouse' }, DB_PASSWORD: { connection: 'warehouse', field: 'password' },
  }), []);
});

test('every problem of an env declaration names its field and the fix', () => {
  const problems = shellEnvProblems({
    '1BAD': 'x', 'has-dash': 'x', KEEL_MINE: 'x', keel_lower: 'x', NUM: 3, NUL: null,
    BOTH: { variable: 'a', connection: 'b' }, NEITHER: { value: 'x' }, EMPTY: { variable: '' },
    DEF: { variable: 'k', default: 1 }, EXTRA: { variable: 'k', field: 'host' }, FIELD: { connection: 'c', field: 'pwd' },
  });
  const byField = Object.fromEntries(problems.map((p) => [p.slice(0, p.indexOf(':')), p]));
  assert.deepEqual(Object.keys(byField).sort(), ['env.1BAD', 'env.BOTH', 'env.DEF', 'env.EMPTY', 'env.EXTRA', 'env.FIELD', 'env.KEEL_MINE', 'env.NEITHER', 'env.NUL', 'env.NUM', 'env.has-dash', 'env.keel_lower'].sort());
  assert.match(byField['env.1BAD']!, /not an environment variable name; use letters, digits and "_"/);
  assert.match(byField['env.KEEL_MINE']!, /KEEL_ are Keel's own/);
  assert.match(byField['env.NUM']!, /expected a string, \{ variable: "key"/);
  assert.match(byField['env.EXTRA']!, /unknown key "field" beside "variable"/);
  assert.match(byField['env.FIELD']!, /field must be one of uri, type, host, port, login, password, schema, extra, got "pwd"/);
  assert.match(byField['env.DEF']!, /default must be a string, got 1/);
  assert.match(shellEnvProblems(['A=1'])[0]!, /^env must be an object of NAME: value/);
});

test('a bad declaration fails the DAG\'s validation naming the task and field; a function task may not declare env', () => {
  const bad = dag({ id: 'd' }, (d) => {
    d.shell('s', { command: 'true', env: { OK: 'x', WRONG: { connection: 'c', field: 'pass' as 'password' } } });
    d.task('f', () => 1);
  });
  bad.tasks[1]!.env = { A: 'x' }; // only a JavaScript author can get it there
  assert.deepEqual(validateDag(serializeDag(bad, 'd.ts')), [
    'task "s": env.WRONG: field must be one of uri, type, host, port, login, password, schema, extra, got "pass"',
    'task "f": env is for shell tasks; a function task reads ctx.variables and ctx.connections',
  ]);
  const good = serializeDag(dag({ id: 'g' }, (d) => d.shell('s', { command: 'true', env: { A: { variable: 'k' } } })), 'g.ts');
  assert.deepEqual(good.tasks[0]!.env, { A: { variable: 'k' } }, 'the declaration is stored with the task');
  assert.deepEqual(validateDag(good), []);
  assert.equal('env' in serializeDag(dag({ id: 'n' }, (d) => d.shell('s', { command: 'true' })), 'n.ts').tasks[0]!, false, 'no env, no field: the version hash of an existing DAG stays');
});

test('upstream results are KEEL_UPSTREAM_<ID> (upper case, other characters "_"): strings raw, the rest JSON; clashing ids are an import error', () => {
  assert.equal(upstreamEnvName('load-daily.v2'), 'KEEL_UPSTREAM_LOAD_DAILY_V2');
  assert.equal(upstreamEnvName('Extract_1'), 'KEEL_UPSTREAM_EXTRACT_1');
  assert.equal(upstreamEnvValue('plain'), 'plain');
  assert.equal(upstreamEnvValue({ rows: 3 }), '{"rows":3}');
  assert.equal(upstreamEnvValue(undefined), 'null');
  assert.deepEqual(upstreamEnvProblems(['a-b', 'x', 'a.b']), ['upstream tasks "a-b" and "a.b" would both be KEEL_UPSTREAM_A_B in this shell task\'s environment; rename one']);
  assert.match(upstreamEnvProblems(['file'])[0]!, /would be KEEL_UPSTREAM_FILE, which holds the path of the upstream results file/);
  const clash = dag({ id: 'c' }, (d) => {
    const a = d.task('a-b', () => 1);
    const b = d.task('a_b', () => 2);
    d.shell('s', { command: 'true', upstream: [a, b] });
    d.task('f', { upstream: [a, b] }, () => 3);
  });
  assert.deepEqual(validateDag(serializeDag(clash, 'c.ts')), ['task "s": upstream tasks "a-b" and "a_b" would both be KEEL_UPSTREAM_A_B in this shell task\'s environment; rename one']);
});

test('a connection as a URI and as single fields', () => {
  assert.equal(connectionUri(CONN), 'google-cloud://app%20user:p%40ss%2Fw%3Ard@db.internal:5432/sales?sslmode=require&retries=3');
  assert.equal(connectionUri({ ...CONN, login: null, password: null, port: null, schema: null, extra: {} }), 'google-cloud://db.internal');
  assert.equal(connectionField(CONN, 'password'), 'p@ss/w:rd');
  assert.equal(connectionField(CONN, 'port'), '5432');
  assert.equal(connectionField(CONN, 'type'), 'google_cloud');
  assert.equal(connectionField(CONN, 'extra'), '{"sslmode":"require","retries":3}');
  assert.equal(connectionField({ ...CONN, password: null, port: null }, 'password'), '');
  assert.equal(connectionField({ ...CONN, port: null }, 'port'), '');
});

/** A worker stand-in holding these variables and connections; records what was asked. */
function fakeWorker(variables: Record<string, string>, connections: Record<string, TaskConnection> = {}) {
  const asked: SecretRequest[] = [];
  const fetch: FetchSecret = async (r) => {
    asked.push(r);
    return r.kind === 'variable' ? variables[r.key] ?? null : connections[r.connId] ?? null;
  };
  return { fetch, asked };
}

test('ctx.variables: get returns the value, a default when missing, else an error naming the key; getJson parses', async () => {
  const { variables } = secretAccessors(fakeWorker({ greeting: 'hi', cfg: '{"n":2}', broken: 'sk-secret{' }).fetch);
  assert.equal(await variables.get('greeting'), 'hi');
  assert.equal(await variables.get('absent', { default: 'fallback' }), 'fallback');
  assert.equal(await variables.get('absent', { default: null }), null);
  await assert.rejects(variables.get('absent'), /^Error: variable "absent" does not exist: create it \(web UI, or PUT \/api\/v1\/variables\/absent\) or give a default: ctx\.variables\.get\("absent", \{ default: … \}\)$/);
  assert.deepEqual(await variables.getJson('cfg'), { n: 2 });
  assert.deepEqual(await variables.getJson('absent', { default: { n: 0 } }), { n: 0 });
  await assert.rejects(variables.getJson('absent'), /variable "absent" does not exist/);
  await assert.rejects(variables.getJson('broken'), (err: Error) => {
    assert.equal(err.message, 'variable "broken" is not valid JSON; read it as a string with ctx.variables.get("broken")', 'the value is not quoted in the error');
    return true;
  });
  await assert.rejects(variables.get('' as string), /ctx\.variables: key: expected a non-empty string/);
});

test('ctx.connections: get returns the connection with its uri, or an error naming the id', async () => {
  const { connections } = secretAccessors(fakeWorker({}, { warehouse: CONN }).fetch);
  const c = await connections.get('warehouse');
  assert.deepEqual({ ...c, uri: undefined }, { ...CONN, uri: undefined });
  assert.equal(c.uri, connectionUri(CONN));
  await assert.rejects(connections.get('nope'), /^Error: connection "nope" does not exist: create it/);
});

test('a shell task\'s env is resolved through the worker: literals as written, defaults, connection fields; a missing one names the variable', async () => {
  const worker = fakeWorker({ token: 'tk-1' }, { warehouse: CONN });
  assert.deepEqual(await resolveShellEnv({
    MODE: 'full', TOKEN: { variable: 'token' }, REGION: { variable: 'region', default: 'eu' },
    DB: { connection: 'warehouse' }, PW: { connection: 'warehouse', field: 'password' },
  }, worker.fetch), { MODE: 'full', TOKEN: 'tk-1', REGION: 'eu', DB: connectionUri(CONN), PW: 'p@ss/w:rd' });
  assert.equal(worker.asked.length, 4, 'literals are not asked for');
  await assert.rejects(resolveShellEnv({ X: { variable: 'absent' } }, worker.fetch), /^Error: env\.X: variable "absent" does not exist: .* give a default: \{ variable: "absent", default: "…" \}$/);
  await assert.rejects(resolveShellEnv({ Y: { connection: 'gone', field: 'host' } }, worker.fetch), /^Error: env\.Y: connection "gone" does not exist/);
  const refusing: FetchSecret = async () => { throw new Error('connection "warehouse" has a password, but this worker has no secretKey to decrypt it'); };
  await assert.rejects(resolveShellEnv({ PW: { connection: 'warehouse', field: 'password' } }, refusing), /^Error: env\.PW: connection "warehouse" has a password, but this worker has no secretKey/, 'the worker\'s reason, naming the variable');
});
