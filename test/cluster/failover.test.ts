// Database failover under load on a real cluster (tools/pg-cluster): Patroni + etcd +
// HAProxy + PgBouncer from Debian packages, the chaos workload's schedulers and workers as
// real processes on HAProxy's read-write port, and per scenario one fault: a patronictl
// switchover, kill -9 of the primary's postmaster, the whole primary node killed — with
// synchronous replication off and on, and one node kill with every transaction going
// through PgBouncer (transaction pooling; sessions and LISTEN through HAProxy). After each,
// the chaos checker's books must balance, no attempt may be lost to the failover and no
// component be declared dead by it; the measured outage and resume times are printed (and
// written to KEEL_TEST_PG_CLUSTER_REPORT when set), never asserted.
// Runs with `npm test -- --cluster` (or KEEL_TEST_PG_CLUSTER=1 npm test); never skips.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { startPgCluster, type PgCluster } from '../../tools/pg-cluster/cluster.js';
import { runFailover, type FailoverKind, type FailoverResult } from '../../tools/pg-cluster/failover.js';
import { isReplicationLoss } from '../../tools/pg-cluster/analysis.js';
import { testLog } from '../support/cluster.js';

interface Scenario { kind: FailoverKind; synchronous: boolean; viaPgBouncer?: boolean }
const ALL: Scenario[] = [
  { kind: 'switchover', synchronous: false }, { kind: 'kill-postmaster', synchronous: false }, { kind: 'kill-node', synchronous: false },
  { kind: 'kill-node', synchronous: true }, { kind: 'kill-postmaster', synchronous: true }, { kind: 'switchover', synchronous: true },
  { kind: 'kill-node', synchronous: true, viaPgBouncer: true },
];
const nameOf = (s: Pick<Scenario, 'kind' | 'synchronous' | 'viaPgBouncer'>) => `${s.kind}:${s.synchronous ? 'sync' : 'async'}${s.viaPgBouncer ? ':pgbouncer' : ''}`;
// KEEL_TEST_PG_CLUSTER_SCENARIOS="kill-node:sync,kill-node:sync:pgbouncer" runs a subset.
const chosen = process.env.KEEL_TEST_PG_CLUSTER_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean);
const SCENARIOS = chosen ? ALL.filter((s) => chosen.includes(nameOf(s))) : ALL;

let cluster: PgCluster;
const results: FailoverResult[] = [];

before(async () => {
  assert.ok(SCENARIOS.length > 0, `no scenario matches KEEL_TEST_PG_CLUSTER_SCENARIOS=${process.env.KEEL_TEST_PG_CLUSTER_SCENARIOS}`);
  cluster = await startPgCluster({ synchronous: SCENARIOS[0]!.synchronous, log: (m) => console.log(`# ${m}`) });
});

after(async () => {
  await cluster?.stop();
  const rows = results.map((r) => ({
    scenario: nameOf(r), dbOutageMs: r.dbOutageMs, keelResumeMs: r.keelResumeMs, keelExtraMs: r.keelExtraMs,
    schedulerResumeMs: r.schedulerResumeMs, declaredDead: r.declaredDead.length, probeLost: r.probeLost, probeAcknowledged: r.probeAcknowledged, runs: r.chaos.runs, taskInstances: r.chaos.taskInstances,
  }));
  console.log('# database failover under load:');
  for (const row of rows) console.log(`#   ${JSON.stringify(row)}`);
  if (process.env.KEEL_TEST_PG_CLUSTER_REPORT) writeFileSync(process.env.KEEL_TEST_PG_CLUSTER_REPORT, JSON.stringify({ at: new Date().toISOString(), results }, null, 1));
});

for (const s of SCENARIOS) {
  test(`${s.kind}, synchronous replication ${s.synchronous ? 'on' : 'off'}${s.viaPgBouncer ? ', through PgBouncer' : ''}: every run finishes, nothing twice, nothing lost to the failover`, { timeout: 240_000 }, async () => {
    const r = await runFailover(cluster, { kind: s.kind, synchronous: s.synchronous, viaPgBouncer: s.viaPgBouncer ?? false, log: testLog(), durationSec: 14, warmupSec: 4 });
    results.push(r);
    console.log(`# ${JSON.stringify(r)}`);
    assert.notEqual(r.toLeader, r.fromLeader, 'another node leads');
    assert.ok(r.timelineAfter > r.timelineBefore, `the timeline moved on (${r.timelineBefore} → ${r.timelineAfter})`);
    assert.ok(r.chaos.settled, 'every run finished after the failover');
    // Asynchronous replication may lose the last commits when the primary dies unplanned
    // (its node, or its postmaster: a backend can answer COMMIT before its WAL was streamed):
    // acknowledged triggers or ledger rows then vanish with them. That is reported
    // (probeLost, the violations it explains), and allowed only without synchronous
    // replication and only for an unplanned failover.
    const mayLose = s.kind !== 'switchover' && !s.synchronous;
    const violations = mayLose ? r.violations.filter((v) => !isReplicationLoss(v)) : r.violations;
    assert.deepEqual(violations, []);
    if (!mayLose) assert.equal(r.probeLost, 0, 'no acknowledged write lost');
    assert.deepEqual(r.casualties, [], 'no attempt fenced, self-fenced or failed because of the failover');
    // Every component rode the outage out: none was declared dead (none was killed).
    assert.deepEqual(r.declaredDead, [], 'no component declared dead by the failover');
    assert.ok(r.chaos.runs >= 3 && r.chaos.taskInstances >= 15, `a real workload ran (${r.chaos.runs} runs, ${r.chaos.taskInstances} task instances)`);
    assert.ok(r.keelResumeMs !== null, 'tasks started again after the database came back');
  });
}
