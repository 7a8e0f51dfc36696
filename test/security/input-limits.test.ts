// Issue 11, findings 7 and 8: inputs that ended in a 500 or a raw PostgreSQL error (a NUL
// in any string, also on the unauthenticated login; numbers past int4/bigint; a lifetime
// of 1e17 s; 5,000-deep JSON; year 0000; invalid UTF-8 and lone surrogates), and ids of
// 101–250 characters that the router refused with a 414 in another format. Each must be a
// 400 in the documented error format ({ statusCode, error, message, field }) naming the
// field, and write nothing; a 250-character id works through every path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createToken } from '../../src/auth/users.js';
import { ApiClient, useApiCluster, type ApiResponse } from '../support/api.js';
import { expectCode, runKeel } from '../support/cli.js';

const DAGS = fileURLToPath(new URL('../fixtures/security/', import.meta.url));
const LONG_DAG = 'd'.repeat(250);
const LONG_TASK = 't'.repeat(250);
const api = useApiCluster(DAGS, ['sec_dag', LONG_DAG], {}, ['dag-processor', 'api']);

/** JSON text of objects nested `levels` deep (too deep for JSON.stringify). */
const deep = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

function expectBadRequest(r: ApiResponse, field: string, what: string): void {
  assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  assert.deepEqual(Object.keys(r.body).sort(), ['error', 'field', 'message', 'statusCode'], `${what}: the documented error format`);
  assert.equal(r.body.statusCode, 400);
  assert.equal(r.body.error, 'Bad Request');
  assert.equal(r.body.field, field, `${what}: names the field`);
  assert.ok(r.body.message.startsWith(field), `${what}: the message starts with the field: ${r.body.message}`);
}

const counts = async () => (await api.t.db.query<{ runs: number; vars: number; events: number; tokens: number; pools: number }>(
  `SELECT (SELECT count(*) FROM dag_run)::int AS runs, (SELECT count(*) FROM variable)::int AS vars, (SELECT count(*) FROM external_event)::int AS events,
          (SELECT count(*) FROM api_token)::int AS tokens, (SELECT count(*) FROM pool)::int AS pools`)).rows[0]!;

test('NUL characters, out-of-range numbers and dates, deep JSON and bad Unicode (26 inputs) are 400s naming the field, and write nothing', async () => {
  const a = api.admin;
  const before = await counts();
  const cases: [string, () => Promise<ApiResponse>, string][] = [
    ['NUL in the login username (no login needed)', () => new ApiClient(api.base).req('POST', '/api/v1/auth/login', { username: 'ada\u0000', password: 'x' }), 'body.username'],
    ['NUL in the login password', () => new ApiClient(api.base).req('POST', '/api/v1/auth/login', { username: 'ada', password: '\u0000' }), 'body.password'],
    ['NUL in a path id', () => a.req('GET', '/api/v1/dags/sec%00dag'), 'params.dagId'],
    ['NUL in a query filter', () => a.req('GET', '/api/v1/runs?dagId=%00'), 'querystring.dagId'],
    ['NUL in an HA event kind', () => a.req('GET', '/api/v1/haEvents?kind=a%00'), 'querystring.kind'],
    ['NUL in a variable value', () => a.req('PUT', '/api/v1/variables/v1', { value: 'a\u0000b' }), 'body.value'],
    ['NUL in a pool description', () => a.req('PUT', '/api/v1/pools/p1', { slots: 1, description: '\u0000' }), 'body.description'],
    ['NUL in a run param', () => a.req('POST', '/api/v1/dags/sec_dag/runs', { params: { who: 'x\u0000' } }), 'body.params.who'],
    ['NUL in an event key', () => a.req('POST', '/api/v1/events', { key: 'k\u0000' }), 'body.key'],
    ['NUL in a key of an event payload', () => a.req('POST', '/api/v1/events', { key: 'k', payload: { 'a\u0000': 1 } }), 'body.payload'],
    ['NUL deep in connection extra', () => a.req('PUT', '/api/v1/connections/c1', { connType: 'http', extra: { hosts: ['ok', '\u0000'] } }), 'body.extra.hosts.1'],
    ['NUL in a token name', () => a.req('POST', '/api/v1/auth/tokens', { name: '\u0000' }), 'body.name'],
    ['offset past bigint on runs', () => a.req('GET', '/api/v1/runs?offset=9223372036854775808'), 'querystring.offset'],
    ['offset past bigint on task instances', () => a.req('GET', '/api/v1/taskInstances?offset=9223372036854775808'), 'querystring.offset'],
    ['offset past bigint on triggers', () => a.req('GET', '/api/v1/triggers?offset=9223372036854775808'), 'querystring.offset'],
    ['log offset past int4', () => a.req('GET', '/api/v1/runs/1/tasks/a/logs?offset=2147483648'), 'querystring.offset'],
    ['log try past int4', () => a.req('GET', '/api/v1/runs/1/tasks/a/logs?try=2147483648'), 'querystring.try'],
    ['token lifetime of 1e17 s', () => a.req('POST', '/api/v1/auth/tokens', { name: 'long', lifetimeSec: 1e17 }), 'body.lifetimeSec'],
    ['logicalDateFrom in year 0000', () => a.req('GET', '/api/v1/runs?logicalDateFrom=0000-01-01T00:00:00Z'), 'querystring.logicalDateFrom'],
    ['logicalDateTo in year 0000', () => a.req('GET', '/api/v1/runs?logicalDateTo=0000-06-01T00:00:00Z'), 'querystring.logicalDateTo'],
    ['a trigger in year 0000', () => a.req('POST', '/api/v1/dags/sec_dag/runs', { logicalDate: '0000-01-01T00:00:00Z' }), 'body.logicalDate'],
    ['5,000-deep run params', () => a.req('POST', '/api/v1/dags/sec_dag/runs', `{"params": ${deep(5000)}}`), `body.params${'.a'.repeat(63)}`],
    ['5,000-deep event payload', () => a.req('POST', '/api/v1/events', `{"key": "deep", "payload": ${deep(5000)}}`), `body.payload${'.a'.repeat(63)}`],
    ['5,000-deep connection extra', () => a.req('PUT', '/api/v1/connections/c2', `{"connType": "http", "extra": ${deep(5000)}}`), `body.extra${'.a'.repeat(63)}`],
    ['a lone surrogate in a variable', () => a.req('PUT', '/api/v1/variables/v2', '{"value": "\\ud800"}'), 'body.value'],
    ['invalid UTF-8 in a body', () => a.req('PUT', '/api/v1/variables/v3', Buffer.concat([Buffer.from('{"value":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), 'body'],
  ];
  assert.equal(cases.length, 26);
  for (const [what, send, field] of cases) expectBadRequest(await send(), field, what);
  assert.deepEqual(await counts(), before, 'nothing was stored');
  // Just inside the limits, the same inputs work.
  assert.equal((await a.req('GET', '/api/v1/runs?offset=2147483647')).status, 200);
  assert.equal((await a.req('POST', '/api/v1/events', `{"key": "deep-ok", "payload": ${deep(60)}}`)).status, 201);
  assert.equal((await a.req('PUT', '/api/v1/variables/emoji', { value: 'ok 😀' })).body.value, 'ok 😀', 'a surrogate pair is a character, not a lone surrogate');
});

test('ids of 101–250 characters work through the API; longer ones are a 400 in the error format', async () => {
  const a = api.admin;
  assert.equal((await a.req('GET', `/api/v1/dags/${LONG_DAG}`)).status, 200, 'a DAG with a 250-character id');
  const run = await a.req('POST', `/api/v1/dags/${LONG_DAG}/runs`, {});
  assert.equal(run.status, 201);
  assert.equal((await a.req('GET', `/api/v1/runs/${run.body.id}/tasks/${LONG_TASK}`)).status, 200, 'a task with a 250-character id');
  assert.equal((await a.req('GET', `/api/v1/dags/${LONG_DAG}/grid`)).status, 200);
  const pool = 'p'.repeat(200);
  assert.equal((await a.req('PUT', `/api/v1/pools/${pool}`, { slots: 2 })).status, 200, 'a pool with a 200-character name');
  assert.equal((await a.req('DELETE', `/api/v1/pools/${pool}`)).status, 204);
  expectBadRequest(await a.req('GET', `/api/v1/dags/${'d'.repeat(251)}`), 'params.dagId', 'a 251-character id');
  expectBadRequest(await a.req('GET', `/api/v1/dags/${'d'.repeat(2000)}`), 'params', 'a 2,000-character path parameter');
  expectBadRequest(await a.req('GET', '/api/v1/dags/%E0%A4%A'), 'params', 'a broken percent-encoding');
});

test('the CLI: arguments that ended in a PostgreSQL error (or a run in year 0) exit 2 naming the argument', async () => {
  const env = { KEEL_DATABASE_URL: api.t.url, KEEL_DAGS_FOLDER: DAGS };
  const runs = async () => (await api.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dag_run')).rows[0]!.n;
  const tokens = async () => (await api.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_token')).rows[0]!.n;
  await createToken(api.t.db, 'ada', 'before', null);
  const [runsBefore, tokensBefore] = [await runs(), await tokens()];
  const cases: [string[], RegExp][] = [
    [['dags', 'trigger', 'sec_dag', '--params', '{"who": "a\\u0000b"}'], /--params\.who must not contain a NUL/],
    [['events', 'post', 'k', '--payload', '{"deep": "\\ud800"}'], /--payload\.deep must not contain a lone UTF-16 surrogate/],
    [['tasks', 'logs', '1', 'a', '--try', '99999999999'], /--try must be a positive integer, got "99999999999"/],
    [['users', 'token', '--username', 'ada', '--lifetime', '100000000000000000'], /--lifetime must be a positive integer, got "100000000000000000" \(at most 31536000\)/],
    [['runs', 'list', '--limit', '1e19'], /--limit must be a positive integer, got "1e19"/],
    [['runs', 'show', '99999999999999999999'], /run id must be a numeric id/],
    [['dags', 'trigger', 'sec_dag', '--logical-date', '0000-01-01T00:00:00Z'], /--logical-date must be an ISO-8601 date in years 0001 to 9999/],
  ];
  // One after another: seven processes at once can starve a small machine.
  for (const [args, message] of cases) {
    const r = await runKeel(args, env);
    expectCode(r, 2);
    assert.match(r.stderr, message, `keel ${args.join(' ')}`);
    assert.doesNotMatch(r.stderr, /invalid byte sequence|out of range|invalid input syntax|unsupported Unicode/, 'no PostgreSQL error');
  }
  assert.equal(await runs(), runsBefore, 'no run was created');
  assert.equal(await tokens(), tokensBefore, 'no token was created');
});
