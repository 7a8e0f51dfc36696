// Where heavy reads go (src/core/replica-route.ts): the read replica while its lag is under
// the bound, the primary otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeReads } from '../../src/core/replica-route.js';

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
