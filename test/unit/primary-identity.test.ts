// The split-brain verdict of a component's session (src/ha/primary-identity.ts): its own
// server against the one the database URL reaches, and when the primary changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgePrimary, primaryChanged, type ServerIdentity } from '../../src/ha/primary-identity.js';

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
