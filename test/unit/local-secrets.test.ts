// keel dags test's variables and connections come from KEEL_VAR_* and KEEL_CONN_* (a URI),
// answered only for the attempt the asking runner runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionUri, parseConnectionUri } from '../../src/core/task-env.js';
import { localSecretAnswer } from '../../src/runtime/local-secrets.js';
import type { TaskConnection } from '../../src/core/types.js';

const conn: TaskConnection = { connId: 'warehouse', connType: 'postgres', host: 'db.example', port: 5432, login: 'ada', password: 'p@ss/wörd', schema: 'sales', extra: { sslmode: 'require' } };

test('a connection URI parses back into the connection it was written from', () => {
  assert.deepEqual(parseConnectionUri('warehouse', connectionUri(conn)), conn);
  assert.deepEqual(parseConnectionUri('h', 'http://example.org'), { connId: 'h', connType: 'http', host: 'example.org', port: null, login: null, password: null, schema: null, extra: {} });
  assert.match(parseConnectionUri('x', 'no uri') as string, /not a connection URI/);
});

test('variables and connections from the environment, for the running attempt only', async () => {
  const answer = localSecretAnswer({ KEEL_VAR_API_KEY: 'k-123', KEEL_CONN_WAREHOUSE: connectionUri(conn), KEEL_CONN_BAD: 'nope' });
  const ask = (request: unknown, attemptId = 'a1', running: string | null = 'a1') => answer(running, { type: 'secret', attemptId, requestId: 1, request } as never);
  assert.deepEqual(await ask({ kind: 'variable', key: 'api-key' }), { ok: true, value: 'k-123' });
  assert.deepEqual(await ask({ kind: 'variable', key: 'other' }), { ok: true, value: null });
  assert.deepEqual(await ask({ kind: 'connection', connId: 'warehouse' }), { ok: true, value: conn });
  assert.match((await ask({ kind: 'connection', connId: 'bad' }) as { error: string }).error, /^KEEL_CONN_BAD: not a connection URI/);
  assert.equal((await ask({ kind: 'variable', key: 'api-key' }, 'a2')).ok, false, 'another attempt id');
  assert.equal((await ask({ kind: 'variable', key: 'api-key' }, 'a1', null)).ok, false, 'no attempt running');
});
