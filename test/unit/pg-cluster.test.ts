// The pure parts of the database HA harness: template rendering, cluster health, the
// failover analysis (outage from the probe, casualties, replication-loss classification).
// The checks must flag what they exist to flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderTemplate } from '../../tools/pg-cluster/template.js';
import { unhealthyReason, type ClusterDoc } from '../../tools/pg-cluster/patroni-api.js';
import { declaredDead, failoverCasualties, firstAtOrAfter, isReplicationLoss, outageAfter } from '../../tools/pg-cluster/analysis.js';
import { TEMPLATES } from '../../tools/pg-cluster/cluster.js';
import type { ProbeSample } from '../../tools/pg-cluster/probe.js';

test('templates: every placeholder filled, every value used', () => {
  assert.equal(renderTemplate('port {{port}} on {{ host }}', { port: 5432, host: 'db' }), 'port 5432 on db');
  assert.throws(() => renderTemplate('{{a}} {{b}}', { a: 1 }), /missing: b/);
  assert.throws(() => renderTemplate('{{a}}', { a: 1, c: 2 }), /no place for: c/);
});

test('the shipped Patroni and PgBouncer templates render with the values the harness gives', () => {
  const patroni = renderTemplate(readFileSync(TEMPLATES.patroni, 'utf8'), {
    scope: 'keel', name: 'n1', host: '127.0.0.1', restapi_port: 8008, pg_port: 5432, etcd_hosts: '127.0.0.1:2379', synchronous_mode: true,
    client_cidr: '127.0.0.1/32', data_dir: '/d', bin_dir: '/b', pgpass: '/p', superuser_password: 'x', replication_password: 'y', rewind_password: 'z', socket_dir: '/s',
  });
  assert.match(patroni, /synchronous_mode: true/);
  assert.match(patroni, /primary_start_timeout: 0/);
  const bouncer = renderTemplate(readFileSync(TEMPLATES.pgbouncer, 'utf8'), {
    upstream_host: '127.0.0.1', upstream_port: 5000, listen_addr: '127.0.0.1', listen_port: 6432, socket_dir: '/s', auth_file: '/a', log_file: '/l', pid_file: '/p',
  });
  assert.match(bouncer, /pool_mode = transaction/);
  assert.match(bouncer, /server_login_retry = 0\.25/);
  const haproxy = readFileSync(TEMPLATES.haproxy, 'utf8');
  assert.match(haproxy, /OPTIONS \/primary/);
  assert.match(haproxy, /OPTIONS \/replica/);
  assert.match(haproxy, /on-marked-down shutdown-sessions/);
});

const member = (name: string, role: string, extra: object = {}) => ({ name, role, state: 'running', timeline: 2, lag: 0, ...extra });

test('cluster health: one running leader, replicas at lag 0 on its timeline, synchronous standby as asked', () => {
  const healthy: ClusterDoc = { members: [member('a', 'leader'), member('b', 'replica'), member('c', 'sync_standby')] };
  assert.equal(unhealthyReason(healthy, 3, true), null);
  assert.equal(unhealthyReason(healthy, 3, null), null);
  assert.match(unhealthyReason(healthy, 3, false)!, /synchronous standby remains/);
  assert.match(unhealthyReason(null, 3, null)!, /no member/);
  assert.match(unhealthyReason({ members: [member('a', 'leader'), member('b', 'replica')] }, 3, null)!, /2 of 3/);
  assert.match(unhealthyReason({ members: [member('a', 'leader'), member('b', 'leader'), member('c', 'replica')] }, 3, null)!, /2 leaders/);
  assert.match(unhealthyReason({ members: [member('a', 'leader'), member('b', 'replica', { lag: 4096 }), member('c', 'replica')] }, 3, null)!, /lags 4096/);
  assert.match(unhealthyReason({ members: [member('a', 'leader'), member('b', 'replica', { timeline: 1 }), member('c', 'replica')] }, 3, null)!, /timeline 1/);
  assert.match(unhealthyReason({ members: [member('a', 'leader'), member('b', 'replica', { state: 'starting' }), member('c', 'replica')] }, 3, null)!, /starting/);
  assert.match(unhealthyReason({ members: [member('a', 'leader'), member('b', 'replica'), member('c', 'replica')] }, 3, true)!, /no synchronous standby/);
});

function probe(okAt: number[], failedAt: number[] = []): ProbeSample[] {
  return [...okAt.map((t, i) => ({ sentAt: t - 5, doneAt: t, ok: true, id: i })), ...failedAt.map((t, i) => ({ sentAt: t, doneAt: t + 5, ok: false, id: 1000 + i }))];
}

test('outage: the longest gap of successful writes that ends after the fault', () => {
  const every = (from: number, to: number) => Array.from({ length: Math.floor((to - from) / 100) + 1 }, (_, i) => from + i * 100);
  const samples = probe([...every(0, 1000), ...every(4200, 5000)], every(1100, 4100));
  const o = outageAfter(samples, 1050);
  assert.equal(o.outageMs, 4200 - 1050);
  assert.equal(o.backAt, 4200);
  assert.equal(o.failedWrites, 31);
  // A stall (one slow write, no error) is an outage too.
  assert.equal(outageAfter(probe([...every(0, 1000), ...every(3000, 4000)]), 1000).outageMs, 2000);
  // No gap: no outage.
  assert.deepEqual(outageAfter(probe(every(0, 3000)), 1000), { outageMs: 0, backAt: 1000, failedWrites: 0 });
  // A gap before the fault does not count.
  assert.equal(outageAfter(probe([...every(0, 500), ...every(2500, 5000)]), 3000).outageMs, 0);
});

test('first time at or after a moment', () => {
  assert.equal(firstAtOrAfter([new Date(5), new Date(12), new Date(10)], 10), 10);
  assert.equal(firstAtOrAfter([new Date(5)], 10), null);
});

test('casualties: fenced, self-fenced and unplanned failures are flagged, planned failures are not; dead components listed apart', () => {
  const none = failoverCasualties([
    { attempt_id: 'a', state: 'failed', error: 'Error: planned failure of the first try', ended_at: new Date() },
    { attempt_id: 'b', state: 'handed_back', error: null, ended_at: new Date() },
  ], [{ kind: 'failover_detected', at: new Date(), details: {} }]);
  assert.deepEqual(none, []);
  const found = failoverCasualties([
    { attempt_id: 'f', state: 'fenced', error: 'lease expired', ended_at: new Date() },
    { attempt_id: 's', state: 'failed', error: 'self-fenced: the worker could not renew the lease', ended_at: new Date() },
    { attempt_id: 'c', state: 'failed', error: 'Connection terminated unexpectedly', ended_at: new Date() },
  ], [{ kind: 'zombie_fenced', at: new Date(0), details: { attemptId: 'f' } }, { kind: 'component_dead', at: new Date(0), details: {} }]);
  assert.equal(found.length, 4);
  assert.deepEqual(declaredDead([{ kind: 'component_dead', at: new Date(0), details: { role: 'scheduler', lastHeartbeatAt: 'x' } }, { kind: 'zombie_fenced', at: new Date(0), details: {} }]),
    ['scheduler declared dead at 1970-01-01T00:00:00.000Z (last heartbeat x)']);
  assert.match(found[0]!, /attempt f was fenced/);
  assert.match(found[1]!, /self-fenced/);
  assert.match(found[2]!, /Connection terminated/);
});

test('replication loss explains missing acknowledged runs, never duplicates', () => {
  assert.ok(isReplicationLoss('acknowledged run 42 of chaos_chain is missing'));
  assert.ok(isReplicationLoss('40 runs exist for 41 acknowledged triggers'));
  assert.ok(isReplicationLoss('task instance 23: accepted attempt 10e15023-4dd0-4680-b80a-29637f3a68a0 never finished in the ledger'));
  assert.ok(!isReplicationLoss('42 runs exist for 41 acknowledged triggers'));
  assert.ok(!isReplicationLoss('duplicate run chaos_chain@2026-01-01T00:00:00.000Z'));
  assert.ok(!isReplicationLoss('task instance 7 (join) has 2 accepted results'));
});
