// The chaos harness as a test: real scheduler, worker, triggerer and DAG processor processes
// on a fresh database, SIGKILL and SIGSTOP at random moments while deferred tasks and
// sensors are in flight, then the checker's verdict.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../../src/ops/chaos/harness.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { testLog } from '../support/cluster.js';

let t: TestDatabase;
before(async () => { t = await freshDatabase(); });
after(async () => { await t?.drop(); });

test('kills and freezes lose nothing and run nothing twice', { timeout: 300_000 }, async () => {
  const { report, settled, maxHeartbeatGapMs } = await runChaos({
    databaseUrl: t.url, durationSec: Number(process.env.KEEL_CHAOS_SEC ?? 60), schedulers: 2, workers: 3, triggerers: 2, dagProcessors: 2,
    faultEverySec: 2.5, freezeShare: 0.25, leaseSec: 5, triggerEverySec: 1.2, maxRuns: 500, seed: 42,
    settleTimeoutSec: 120, log: testLog(),
  });
  console.log(JSON.stringify({ ...report, overlaps: report.overlaps.length, maxHeartbeatGapMs }, null, 1));
  assert.ok(settled, 'every run finished after the fault phase');
  assert.deepEqual(report.violations, []);
  assert.ok(report.runs >= 20, `a real workload ran (${report.runs} runs)`);
  assert.ok(report.faults.kills + report.faults.freezes >= 8, `faults were injected (${report.faults.kills} kills, ${report.faults.freezes} freezes)`);
  assert.ok(report.recoveryMs.samples > 0, 'at least one worker died holding attempts, and they were taken over');
  assert.ok(report.deferrals.fired > 0, `deferred tasks were in flight (${report.deferrals.fired} triggers fired)`);
});
