import { test } from 'node:test';
import assert from 'node:assert/strict';
import { databaseCoverage, roleCoverage } from '../../src/core/ha-coverage.js';

const byRole = (r: ReturnType<typeof roleCoverage>) => Object.fromEntries(r.map((x) => [x.role, x]));

test('every role is listed with alive against configured copies; one copy is a single point of failure', () => {
  const r = byRole(roleCoverage([
    { role: 'scheduler', healthy: true }, { role: 'scheduler', healthy: true }, { role: 'scheduler', healthy: false },
    { role: 'worker', healthy: true }, { role: 'dag-processor', healthy: true }, { role: 'dag-processor', healthy: true },
  ], { scheduler: 2, worker: 3, 'dag-processor': 1 }));
  assert.deepEqual(Object.keys(r), ['scheduler', 'worker', 'dag-processor', 'triggerer', 'api']);
  assert.deepEqual([r.scheduler!.alive, r.scheduler!.configured, r.scheduler!.status, r.scheduler!.singlePointOfFailure], [2, 2, 'redundant', false]);
  assert.deepEqual([r.worker!.alive, r.worker!.configured, r.worker!.status, r.worker!.singlePointOfFailure], [1, 3, 'below', true]);
  assert.match(r.worker!.note, /1 of 3 .*single point of failure/);
  assert.equal(r['dag-processor']!.singlePointOfFailure, true, 'configured as one copy, even with two alive');
  assert.deepEqual([r.triggerer!.alive, r.triggerer!.configured, r.triggerer!.status], [0, null, 'absent']);
});

test('a standalone process is one copy of every role', () => {
  for (const c of roleCoverage([{ role: 'standalone', healthy: true }], {})) {
    assert.deepEqual([c.alive, c.status, c.singlePointOfFailure], [1, 'single', true], c.role);
  }
});

test('a database without a streaming replica is a single point of failure', () => {
  assert.equal(databaseCoverage('primary', 0).singlePointOfFailure, true);
  assert.match(databaseCoverage('primary', 0).note, /single, unreplicated database/);
  assert.equal(databaseCoverage('primary', 2).singlePointOfFailure, false);
  assert.equal(databaseCoverage(null, 0).singlePointOfFailure, true);
});
