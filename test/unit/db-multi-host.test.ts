// Multi-host database URLs (src/db/multi-host.ts): their hosts in order, target_session_attrs
// and which server it accepts, and bad URLs named by their option with the password hidden.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptable, needsCheck, parseDatabaseUrl, DatabaseUrlError } from '../../src/db/multi-host.js';
import { UsageError } from '../../src/errors.js';

test('a multi-host URL gives its hosts in order and single-host URLs without target_session_attrs', () => {
  const p = parseDatabaseUrl('postgres://keel:s%40cret@db1:5432,db2:5433,[::1]:6432/keel?target_session_attrs=read-write&sslmode=disable');
  assert.deepEqual(p.hosts, [{ host: 'db1', port: 5432 }, { host: 'db2', port: 5433 }, { host: '::1', port: 6432 }]);
  assert.equal(p.targetSessionAttrs, 'read-write');
  assert.equal(p.urlFor(p.hosts[1]!), 'postgres://keel:s%40cret@db2:5433/keel?sslmode=disable');
  assert.equal(p.urlFor(p.hosts[2]!), 'postgres://keel:s%40cret@[::1]:6432/keel?sslmode=disable');
  assert.ok(needsCheck(p));
});

test('a plain URL is one host, port 5432 by default, attrs any, no server check', () => {
  const p = parseDatabaseUrl('postgresql://u@localhost/db');
  assert.deepEqual(p.hosts, [{ host: 'localhost', port: 5432 }]);
  assert.equal(p.targetSessionAttrs, 'any');
  assert.equal(needsCheck(p), false);
  assert.equal(p.urlFor(p.hosts[0]!), 'postgresql://u@localhost:5432/db');
  assert.ok(needsCheck(parseDatabaseUrl('postgres://u@h/db?target_session_attrs=primary')));
});

test('bad URLs name the option and show the expected shape, password redacted', () => {
  assert.throws(() => parseDatabaseUrl('mysql://u:pw@h/db', 'KEEL_DATABASE_URL (databaseUrl)'), (err: Error) =>
    err instanceof DatabaseUrlError && err instanceof UsageError && err.message.startsWith('KEEL_DATABASE_URL (databaseUrl)') && err.message.includes('postgres://user:password@host:port') && !err.message.includes(':pw@'));
  assert.throws(() => parseDatabaseUrl('postgres://u@h1:99999/db'), /bad port/);
  assert.throws(() => parseDatabaseUrl('postgres://u@h1,,h2/db'), /bad host/);
  assert.throws(() => parseDatabaseUrl('postgres://u@h/db?target_session_attrs=writable'), /not one of any, read-write/);
  assert.throws(() => parseDatabaseUrl('postgres:///db'), /names no host/);
});

test('target_session_attrs decides which server is acceptable', () => {
  const primary = { inRecovery: false, readOnly: false };
  const standby = { inRecovery: true, readOnly: true };
  const readOnlyPrimary = { inRecovery: false, readOnly: true }; // default_transaction_read_only, or a demoting primary
  assert.equal(acceptable('read-write', primary), true);
  assert.equal(acceptable('read-write', standby), false);
  assert.equal(acceptable('read-write', readOnlyPrimary), false);
  assert.equal(acceptable('primary', readOnlyPrimary), true);
  assert.equal(acceptable('standby', standby), true);
  assert.equal(acceptable('prefer-standby', primary), false);
  assert.equal(acceptable('prefer-standby', primary, 'fallback'), true);
  assert.equal(acceptable('any', standby), true);
});
