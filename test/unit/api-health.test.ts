// The health roll-up (src/api/health.ts): which roles are live, degraded or missing, and the HTTP status it gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assessHealth, httpStatusOf, type ComponentRow } from '../../src/api/health.js';

const db = { reachable: true, role: 'primary' as const };
const c = (role: string, age: number, state = 'running', deadAgo: number | null = null): ComponentRow => ({ id: `${role}-${age}-${state}`, role, hostname: 'h', pid: 1, state, heartbeat_age_sec: age, dead_sec_ago: deadAgo });

test('healthy when every required role has a live component; standalone covers them all', () => {
  assert.equal(assessHealth(db, [c('scheduler', 0.4), c('worker', 0.3), c('dag-processor', 1)], 5).status, 'healthy');
  assert.equal(assessHealth(db, [c('standalone', 0.2)], 5).status, 'healthy');
});

test('a lost scheduler with another alive is degraded; no live scheduler is unhealthy (503)', () => {
  const degraded = assessHealth(db, [c('scheduler', 0.4), c('scheduler', 9), c('worker', 0.3), c('dag-processor', 1)], 5);
  assert.equal(degraded.status, 'degraded');
  assert.equal(degraded.roles.scheduler!.status, 'degraded');
  assert.equal(httpStatusOf(degraded.status), 200);
  const down = assessHealth(db, [c('scheduler', 30, 'dead', 20), c('worker', 0.3), c('dag-processor', 1)], 5);
  assert.equal(down.status, 'unhealthy');
  assert.equal(httpStatusOf(down.status), 503);
  assert.match(down.roles.scheduler!.reason!, /no scheduler/);
});

test('no worker or DAG processor is degraded; a database down or a replica is unhealthy', () => {
  assert.equal(assessHealth(db, [c('scheduler', 0.4)], 5).status, 'degraded');
  assert.equal(assessHealth({ reachable: false, error: 'ECONNREFUSED' }, [], 5).status, 'unhealthy');
  assert.equal(assessHealth({ reachable: true, role: 'replica' }, [c('standalone', 0.1)], 5).status, 'unhealthy');
  assert.equal(assessHealth(db, [c('standalone', 0.1), c('scheduler', 600, 'dead', 3000)], 5).status, 'healthy', 'a death long ago no longer degrades');
});
