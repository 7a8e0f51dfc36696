// Which database errors are retried (src/db/transient.ts): those a failover causes, not
// those a statement causes; and which of them mean the database is unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTransientDbError, isUnreachableDbError } from '../../src/db/transient.js';

test('failover errors are transient: admin shutdown, read-only, serialization, deadlock, refused, reset', () => {
  const e = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  for (const code of ['57P01', '25006', '40001', '40P01', 'ECONNREFUSED', 'ECONNRESET', '08001']) assert.ok(isTransientDbError(e(code)), code);
  assert.ok(isTransientDbError(new Error('Connection terminated unexpectedly')));
  assert.ok(isTransientDbError(new Error('timeout exceeded when trying to connect')));
  assert.equal(isTransientDbError(e('23505')), false);
  assert.equal(isTransientDbError(e('42601')), false);
});

test('a lost race is not an unreachable database; a refused connection or a read-only server is', () => {
  const e = (code: string) => Object.assign(new Error(code), { code });
  for (const code of ['40001', '40P01', '55P03']) assert.equal(isUnreachableDbError(e(code)), false, code);
  for (const code of ['57P01', '25006', '08006', 'ECONNREFUSED']) assert.equal(isUnreachableDbError(e(code)), true, code);
  assert.equal(isUnreachableDbError(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isUnreachableDbError(new Error('syntax error')), false);
});
