// The client half of database failover, pure parts: multi-host URLs and target_session_attrs,
// the split-brain verdict, the read replica route, and which errors are retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptable, needsCheck, parseDatabaseUrl, DatabaseUrlError } from '../../src/db/multi-host.js';
import { judgePrimary, primaryChanged, type ServerIdentity } from '../../src/ha/primary-identity.js';
import { routeReads } from '../../src/core/replica-route.js';
import { isTransientDbError } from '../../src/db/transient.js';
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

const id = (over: Partial<ServerIdentity> = {}): ServerIdentity => ({ systemId: '7300000000000000001', timeline: 3, inRecovery: false, address: '10.0.0.1:5432', startedAt: '2026-11-26 04:00:00+00', ...over });

test('split-brain verdict: same system and timeline is fit even through another address', () => {
  assert.deepEqual(judgePrimary(id(), id({ address: '127.0.0.1:6432' })), { fit: true, reason: 'same_primary' });
});

test('split-brain verdict: a session on a standby or demoted primary is unfit', () => {
  const v = judgePrimary(id({ inRecovery: true }), id());
  assert.equal(v.fit, false);
  assert.equal(!v.fit && v.reason, 'in_recovery');
});

test('split-brain verdict: an old primary on an older timeline than the route is isolated', () => {
  const v = judgePrimary(id({ timeline: 3 }), id({ timeline: 4, address: '10.0.0.2:5432' }));
  assert.equal(!v.fit && v.reason, 'isolated_primary');
  assert.match(!v.fit ? v.detail : '', /timeline 3 .* timeline 4/);
});

test('split-brain verdict: another cluster, or a route behind the session, is unfit; no route answer proves nothing', () => {
  assert.equal(judgePrimary(id(), id({ systemId: '7399999999999999999' })).fit, false);
  const behind = judgePrimary(id({ timeline: 5 }), id({ timeline: 4 }));
  assert.equal(!behind.fit && behind.reason, 'route_behind');
  assert.deepEqual(judgePrimary(id(), null), { fit: true, reason: 'unconfirmed' });
  assert.equal(judgePrimary(id({ inRecovery: true }), null).fit, false);
});

test('the primary changed: new timeline or restarted postmaster, not a new address of the same server', () => {
  assert.equal(primaryChanged(null, id()), false);
  assert.equal(primaryChanged(id(), id({ address: 'other' })), false);
  assert.equal(primaryChanged(id(), id({ timeline: 4 })), true);
  assert.equal(primaryChanged(id(), id({ startedAt: '2026-11-26 04:05:00+00' })), true);
});

const sample = (over = {}) => ({ reachable: true, inRecovery: true, caughtUp: false, replayAgeMs: 100, ageMs: 10, ...over });

test('reads go to the replica while its lag is under the bound', () => {
  assert.equal(routeReads(sample(), 2000, 1000).use, 'replica');
  assert.deepEqual(routeReads(sample({ caughtUp: true, replayAgeMs: 999999 }), 2000, 1000), { use: 'replica', lagMs: 0, reason: 'replica lag within bound' });
});

test('reads fall back to the primary: lag over the bound, unreachable, promoted, stale or missing check', () => {
  assert.equal(routeReads(sample({ replayAgeMs: 2500 }), 2000, 1000).use, 'primary');
  assert.equal(routeReads(sample({ reachable: false }), 2000, 1000).use, 'primary');
  assert.equal(routeReads(sample({ inRecovery: false }), 2000, 1000).use, 'primary');
  assert.equal(routeReads(sample({ ageMs: 3500 }), 2000, 1000).use, 'primary');
  assert.equal(routeReads(sample({ replayAgeMs: null }), 2000, 1000).use, 'primary');
  assert.equal(routeReads(null, 2000, 1000).use, 'primary');
});

test('failover errors are transient: admin shutdown, read-only, serialization, deadlock, refused, reset', () => {
  const e = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  for (const code of ['57P01', '25006', '40001', '40P01', 'ECONNREFUSED', 'ECONNRESET', '08001']) assert.ok(isTransientDbError(e(code)), code);
  assert.ok(isTransientDbError(new Error('Connection terminated unexpectedly')));
  assert.ok(isTransientDbError(new Error('timeout exceeded when trying to connect')));
  assert.equal(isTransientDbError(e('23505')), false);
  assert.equal(isTransientDbError(e('42601')), false);
});
