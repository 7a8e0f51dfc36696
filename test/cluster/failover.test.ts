// Database failover under load on a real cluster (src/ops/pg-cluster): Patroni + etcd +
// HAProxy + PgBouncer from Debian packages, the chaos workload's schedulers and workers as
// real processes on HAProxy's read-write port, and per scenario one fault: a patronictl
// switchover, kill -9 of the primary's postmaster, the whole primary node killed — with
// synchronous replication off and on. After each, the chaos checker's books must balance
// and no attempt may be lost to the failover; the measured outage and resume times are
// printed (and written to KEEL_TEST_PG_CLUSTER_REPORT when set), never asserted.
// Runs with `npm test -- --cluster` (or KEEL_TEST_PG_CLUSTER=1 npm test); never skips.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { startPgCluster, type PgCluster } from '../../src/ops/pg-cluster/cluster.js';
import { runFailover, type FailoverKind, type FailoverResult } from '../../src/ops/pg-cluster/failover.js';
import { isReplicationLoss } from '../../src/ops/pg-cluster/analysis.js';
import { testLog } from '../support/cluster.js';

const ALL: { kind: FailoverKind; synchronous: boolean }[] = [
  { kind: 'switchover', synchronous: false }, { kind: 'kill-postmaster', synchronous: false }, { kind: 'kill-node', synchronous: false },
  { kind: 'kill-node', synchronous: true }, { kind: 'kill-postmaster', synchronous: true }, { kind: 'switchover', synchronous: true },
];
// KEEL_TEST_PG_CLUSTER_SCENARIOS="kill-node:sync,switchover:async" runs a subset.
const chosen = process.env.KEEL_TEST_PG_CLUSTER_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean);
const SCENARIOS = chosen ? ALL.filter((s) => chosen.includes(`${s.kind}:${s.synchronous ? 'sync' : 'async'}`)) : ALL;

let cluster: PgCluster;
const results: FailoverResult[] = [];

before(async () => {
  assert.ok(SCENARIOS.length > 0, `no scenario matches KEEL_TEST_PG_CLUSTER_SCENARIOS=${process.env.KEEL_TEST_PG_CLUSTER_SCENARIOS}`);
  cluster = await startPgCluster({ synchronous: SCENARIOS[0]!.synchronous, log: (m) => console.log(`# ${m}`) });
});

after(async () => {
  await cluster?.stop();
  const rows = results.map((r) => ({
    scenario: `${r.kind} ${r.synchronous ? 'sync' : 'async'}`, dbOutageMs: r.dbOutageMs, keelResumeMs: r.keelResumeMs, keelExtraMs: r.keelExtraMs,
    schedulerResumeMs: r.schedulerResumeMs, declaredDead: r.declaredDead.length, probeLost: r.probeLost, probeAcknowledged: r.probeAcknowledged, runs: r.chaos.runs, taskInstances: r.chaos.taskInstances,
  }));
  console.log('# database failover under load:');
  for (const row of rows) console.log(`#   ${JSON.stringify(row)}`);
  if (process.env.KEEL_TEST_PG_CLUSTER_REPORT) writeFileSync(process.env.KEEL_TEST_PG_CLUSTER_REPORT, JSON.stringify({ at: new Date().toISOString(), results }, null, 1));
});

for (const s of SCENARIOS) {
  test(`${s.kind}, synchronous replication ${s.synchronous ? 'on' : 'off'}: every run finishes, nothing twice, nothing lost to the failover`, { timeout: 240_000 }, async () => {
    const r = await runFailover(cluster, { kind: s.kind, synchronous: s.synchronous, log: testLog(), durationSec: 14, warmupSec: 4 });
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
    assert.ok(r.chaos.runs >= 3 && r.chaos.taskInstances >= 15, `a real workload ran (${r.chaos.runs} runs, ${r.chaos.taskInstances} task instances)`);
    assert.ok(r.keelResumeMs !== null, 'tasks started again after the database came back');
  });
}
