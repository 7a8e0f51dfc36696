// keel ha audit's judgement (src/core/ha-audit.ts): single copies, copies on one node, a
// database without a (synchronous) replica, Patroni and etcd, and capacity without the
// largest node (N+1) or two (N+2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditDeployment, type AuditComponent, type AuditInput } from '../../src/core/ha-audit.js';

const every = (node: string, zone: string | null = null, capacity = 4): AuditComponent[] =>
  (['scheduler', 'worker', 'dag-processor', 'triggerer', 'api'] as const).map((role) => ({ role, node, zone, capacity: role === 'worker' ? capacity : 0 }));
const healthyDb: AuditInput['database'] = {
  embedded: false, replicas: [{ name: 'pg2', state: 'streaming', syncState: 'sync', replayLagSec: 0.1 }], patroni: null, etcdMembers: null,
};
const input = (o: Partial<AuditInput> = {}): AuditInput => ({
  components: [...every('n1'), ...every('n2'), ...every('n3')], expectedCopies: {}, database: healthyDb,
  load: { windowSec: 3600, peakRunning: 4, meanRunning: 1.5 }, replicaLagWarnSec: 5, ...o,
});
const whats = (i: AuditInput) => auditDeployment(i).findings.map((f) => `${f.severity}: ${f.what}`);

test('three nodes with every role, a synchronous replica and spare slots: no finding, ok', () => {
  const r = auditDeployment(input());
  assert.deepEqual(r.findings, []);
  assert.equal(r.ok, true);
  assert.deepEqual(r.capacity.nPlus1, { lost: ['n1'], slotsLeft: 8, needed: 4, ok: true });
  assert.deepEqual(r.roles.find((x) => x.role === 'worker'), {
    role: 'worker', copies: 3, expected: null, nodes: ['n1', 'n2', 'n3'], zones: [], status: 'redundant', singlePointOfFailure: false, note: '3 copies on 3 nodes: any one can die',
  });
  assert.deepEqual(r.database, { streamingReplicas: 1, singlePointOfFailure: false, note: '1 replica(s) streaming: a failover target exists' });
  assert.deepEqual(r.singlePointsOfFailure, []);
});

test('a standalone process, a single copy and copies on one node are single points of failure', () => {
  assert.deepEqual(whats(input({ components: [{ role: 'standalone', node: 'laptop', zone: null, capacity: 4 }], database: { ...healthyDb, embedded: true } })).filter((w) => w.startsWith('spof')).slice(0, 2), [
    'spof: 1 standalone process(es) on laptop run every role in one process',
    'spof: one scheduler (on laptop): its loss stops what it does',
  ]);
  const oneNode = whats(input({ components: [...every('n1'), ...every('n1')] }));
  assert.ok(oneNode.includes('spof: all 2 scheduler copies run on n1'));
  const noTriggerer = whats(input({ components: [...every('n1'), ...every('n2')].filter((c) => c.role !== 'triggerer') }));
  assert.ok(noTriggerer.includes('spof: no live triggerer'));
  assert.ok(whats(input({ expectedCopies: { worker: 4 } })).includes('spof: 3 of the 4 configured worker copies are alive'));
  assert.ok(whats(input({ components: [...every('n1', 'a'), ...every('n2', 'a')] })).includes('warning: all scheduler copies are in zone a'));
});

test('the database: embedded, no replica, none streaming are SPOFs; asynchronous only and lag are warnings', () => {
  assert.match(whats(input({ database: { ...healthyDb, embedded: true } }))[0]!, /^spof: the database is the embedded PostgreSQL/);
  assert.match(whats(input({ database: { ...healthyDb, replicas: [] } }))[0]!, /^spof: no replica streams from the database primary/);
  assert.deepEqual(whats(input({ database: { ...healthyDb, replicas: [{ name: 'pg2', state: 'catchup', syncState: 'async', replayLagSec: 30 }] } })), [
    'spof: no replica is streaming (pg2: catchup)',
    'warning: replication is asynchronous only: a failover may lose the last commits (RPO > 0)',
    'warning: replica pg2 replays 30.0 s behind',
  ]);
  const patroni = [{ name: 'pg1', role: 'leader', state: 'running', lagBytes: null }, { name: 'pg2', role: 'replica', state: 'stopped', lagBytes: null }];
  assert.ok(whats(input({ database: { ...healthyDb, patroni } })).includes('spof: Patroni has 1 running member(s): no failover target'));
  assert.ok(whats(input({ database: { ...healthyDb, patroni: patroni.map((m) => ({ ...m, role: 'replica' })) } })).includes('spof: Patroni has no leader'));
  assert.match(whats(input({ database: { ...healthyDb, etcdMembers: 1 } }))[0]!, /^spof: etcd has 1 member\(s\): losing one loses quorum/);
});

test('capacity: the largest node lost first; N+1 short is a SPOF, N+2 short a warning', () => {
  const components = [...every('big', null, 8), ...every('small', null, 2), ...every('mid', null, 4)];
  const n1Short = auditDeployment(input({ components, load: { windowSec: 3600, peakRunning: 7, meanRunning: 3 } }));
  assert.deepEqual(n1Short.capacity.nPlus1, { lost: ['big'], slotsLeft: 6, needed: 7, ok: false });
  assert.equal(n1Short.ok, false);
  assert.match(n1Short.findings[0]!.what, /^without big the workers have 6 slots; the last 60 min needed up to 7 at once \(N\+1\)/);
  const n2Short = auditDeployment(input({ components, load: { windowSec: 3600, peakRunning: 3, meanRunning: 3.2 } }));
  assert.deepEqual(n2Short.capacity.nPlus2, { lost: ['big', 'mid'], slotsLeft: 2, needed: 4, ok: false });
  assert.equal(n2Short.ok, true, 'N+2 short is a warning');
  assert.equal(n2Short.findings[0]!.severity, 'warning');
  assert.equal(auditDeployment(input({ load: { windowSec: 3600, peakRunning: 0, meanRunning: 0 } })).capacity.nPlus2.ok, true, 'no load: nothing needed');
});
