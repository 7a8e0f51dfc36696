// keel ha diagnose's findings (src/core/ha-diagnose.ts), each with its fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, type DiagnoseInput } from '../../src/core/ha-diagnose.js';

const members = [
  { name: 'pg1', role: 'leader', state: 'running', timeline: 3, lagBytes: null },
  { name: 'pg2', role: 'replica', state: 'streaming', timeline: 3, lagBytes: 0 },
];
const healthy = (o: Partial<DiagnoseInput> = {}): DiagnoseInput => ({
  database: { reachable: true, inRecovery: false, timeline: 3 },
  replicas: [{ name: 'pg2', state: 'streaming', replayLagSec: 0 }],
  patroni: { reachable: true, paused: false, members, silent: [] }, etcd: { reachable: true, healthy: true, members: 3 },
  components: [{ role: 'worker', hostname: 'h1', pid: 10, db: { server: '10.0.0.1:5432', timeline: 3, fit: true, verdict: 'primary' } }],
  leases: { expiredRunning: 0, oldestExpiredSec: null, expiredTriggers: 0, liveSchedulers: 2, liveTriggerers: 2, fencingAllowed: true },
  replicaLagWarnSec: 5, stuckAfterSec: 30, ...o,
});
const problems = (i: DiagnoseInput) => diagnose(i).map((d) => d.problem);

test('a healthy cluster: nothing found', () => {
  assert.deepEqual(diagnose(healthy()), []);
});

test('etcd without quorum, Patroni paused or leaderless, a stopped or diverged member', () => {
  assert.match(problems(healthy({ etcd: { reachable: false, error: 'ECONNREFUSED' } }))[0]!, /^etcd does not answer \(ECONNREFUSED\): Patroni cannot renew its leader key/);
  assert.match(problems(healthy({ etcd: { reachable: true, healthy: false, members: 3 } }))[0]!, /has lost quorum/);
  const paused = diagnose(healthy({ patroni: { reachable: true, paused: true, members, silent: [] } }));
  assert.deepEqual(paused, [{ problem: 'Patroni is paused (maintenance mode): it fails nothing over and restarts nothing', fix: 'patronictl -c /etc/patroni/patroni.yml resume' }]);
  assert.match(problems(healthy({ patroni: { reachable: true, paused: false, members: members.map((m) => ({ ...m, role: 'replica' })), silent: [] } }))[0]!, /^Patroni has no leader/);
  assert.deepEqual(problems(healthy({ patroni: { reachable: true, paused: false, members: [members[0]!, { ...members[1]!, state: 'stopped' }], silent: [] } })), ['Patroni member pg2 is stopped: it is no failover target']);
  assert.deepEqual(problems(healthy({ patroni: { reachable: true, paused: false, members: [members[0]!, { ...members[1]!, state: 'running', timeline: 2 }], silent: [] } })), ['Patroni member pg2 is on timeline 2, the leader on 3: it diverged and does not follow']);
  assert.match(problems(healthy({ patroni: { reachable: false, error: 'timeout' } }))[0]!, /^Patroni's REST API does not answer \(timeout\)/);
  assert.deepEqual(problems(healthy({ patroni: { reachable: true, paused: false, members, silent: [{ url: 'http://pg3:8008', error: 'ECONNREFUSED' }] } })), ['the Patroni member at http://pg3:8008 does not answer (ECONNREFUSED): it is no failover target']);
});

test('the database: unreachable, a standby, no replica or one that stopped streaming', () => {
  assert.match(problems(healthy({ database: { reachable: false, error: 'connection refused' }, replicas: null }))[0]!, /^Keel cannot reach its database \(connection refused\)/);
  assert.match(problems(healthy({ database: { reachable: true, inRecovery: true, timeline: 3 }, replicas: null }))[0]!, /reaches a standby/);
  assert.match(problems(healthy({ replicas: [] }))[0]!, /^no replica streams from the primary/);
  assert.deepEqual(problems(healthy({ replicas: [{ name: 'pg2', state: 'catchup', replayLagSec: null }] })), ['replica pg2 is catchup, not streaming']);
});

test('components on an old primary or unfit; leases nobody fences, with the cause', () => {
  const old = problems(healthy({ components: [{ role: 'worker', hostname: 'h1', pid: 10, db: { server: 'a', timeline: 2, fit: true, verdict: 'primary' } }] }));
  assert.deepEqual(old, ['worker on h1 (pid 10) last saw timeline 2; the primary is on 3']);
  assert.match(problems(healthy({ components: [{ role: 'scheduler', hostname: 'h2', pid: 11, db: { server: 'b', timeline: 2, fit: false, verdict: 'isolated' } }] }))[0]!, /^scheduler on h2 \(pid 11\) is on a server that is not the primary \(isolated, b\): it takes no work/);
  const stuck = (o: Partial<DiagnoseInput['leases']>) => diagnose(healthy({ leases: { expiredRunning: 3, oldestExpiredSec: 90, expiredTriggers: 0, liveSchedulers: 2, liveTriggerers: 2, fencingAllowed: true, ...o } }));
  assert.match(stuck({ liveSchedulers: 0 })[0]!.problem, /^3 running attempt\(s\) have leases that expired up to 90 s ago and are not fenced: no live scheduler/);
  assert.equal(stuck({ liveSchedulers: 0 })[0]!.fix, 'start a scheduler (keel scheduler)');
  assert.match(stuck({ fencingAllowed: false })[0]!.problem, /fencing waits out the outage grace/);
  assert.deepEqual(stuck({ oldestExpiredSec: 10 }), [], 'a lease that just expired is the next sweep\'s');
});
