// keel ha audit on a live fleet: single copies and missing roles are single points of
// failure, a second node removes them; capacity is checked against the attempts that really
// ran (four at once): without the largest node two workers of three slots fall short (N+1),
// three workers do not (N+2 then warns); the test database has no replica, which stays a
// finding, so the exit code stays 1. The API answers the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OptionName } from '../../src/config/options.js';
import { startRole, type RoleName, type RunningRole } from '../../src/runtime/roles.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import type { AuditOutcome } from '../../src/ha/audit.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { runKeel } from '../support/cli.js';
import { ApiClient } from '../support/api.js';
import { createUser } from '../../src/auth/users.js';
import { testLog, testOptions, waitFor, waitForDag, waitForRunEnd } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/audit/', import.meta.url));
let t: TestDatabase;
const roles: RunningRole[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'keel-audit-'));

before(async () => { t = await freshDatabase(); });
after(async () => {
  for (const r of roles.reverse()) await r.stop();
  await t?.drop();
  rmSync(scratch, { recursive: true, force: true });
});

async function start(role: RoleName, nodeName: string, extra: Partial<Record<OptionName, unknown>> = {}): Promise<RunningRole> {
  const r = await startRole(role, testOptions(t.url, DAGS, { nodeName, workerConcurrency: 3, apiPort: 0, apiDrainSec: 0, ...extra }), testLog());
  roles.push(r);
  return r;
}
async function audit(): Promise<{ code: number | null; report: AuditOutcome }> {
  const r = await runKeel(['--json', 'ha', 'audit'], { KEEL_DATABASE_URL: t.url });
  return { code: r.code, report: JSON.parse(r.stdout) };
}
const spofs = (r: AuditOutcome) => r.findings.filter((f) => f.severity === 'spof').map((f) => f.what);
const live = (n: number) => waitFor(`${n} components to heartbeat`, async () => (await t.db.query(`SELECT 1 FROM component WHERE state = 'running'`)).rowCount === n);

test('one copy of each role on one node: every role without a second copy is named, exit 1', async () => {
  for (const role of ['dag-processor', 'scheduler', 'worker'] as const) await start(role, 'n1');
  await live(3);
  const { code, report } = await audit();
  assert.equal(code, 1);
  assert.equal(report.ok, false);
  for (const what of ['one scheduler (on n1): its loss stops what it does', 'one worker (on n1): its loss stops what it does', 'no live triggerer', 'no live api']) {
    assert.ok(spofs(report).includes(what), `names "${what}" in ${JSON.stringify(spofs(report))}`);
  }
  assert.ok(spofs(report).some((w) => w.startsWith('no replica streams from the database primary')));
});

test('every role on two nodes; four tasks at once need more than one node\'s three slots (N+1), then a third node is enough', async () => {
  for (const role of ['dag-processor', 'scheduler', 'worker', 'triggerer', 'api'] as const) await start(role, 'n2');
  for (const role of ['triggerer', 'api'] as const) await start(role, 'n1');
  await live(10);
  await waitForDag(t.db, 'au_fan');
  const run = await triggerDag(t.db, 'au_fan', { params: { barrier: join(scratch, 'barrier') } });
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');

  const two = await audit();
  assert.deepEqual(two.report.roles.map((r) => [r.role, r.copies, r.nodes.join(',')]), [
    ['scheduler', 2, 'n1,n2'], ['worker', 2, 'n1,n2'], ['dag-processor', 2, 'n1,n2'], ['triggerer', 2, 'n1,n2'], ['api', 2, 'n1,n2'],
  ]);
  assert.deepEqual(two.report.capacity.nPlus1, { lost: ['n1'], slotsLeft: 3, needed: 4, ok: false });
  assert.ok(spofs(two.report).some((w) => w.startsWith('without n1 the workers have 3 slots; the last 60 min needed up to 4 at once (N+1)')));

  await start('worker', 'n3');
  await live(11);
  const three = await audit();
  assert.deepEqual(three.report.capacity.nPlus1, { lost: ['n1'], slotsLeft: 6, needed: 4, ok: true });
  assert.deepEqual(three.report.capacity.nPlus2, { lost: ['n1', 'n2'], slotsLeft: 3, needed: 4, ok: false });
  assert.equal(spofs(three.report).length, 1, `only the database is left: ${JSON.stringify(spofs(three.report))}`);
  assert.equal(three.code, 1, 'a database without a replica still fails the gate');

  const base = `http://127.0.0.1:${roles.find((r) => r.apiPort)!.apiPort}`;
  assert.equal((await fetch(`${base}/api/v1/ha/audit`)).status, 401, 'the audit is for logged-in users');
  await createUser(t.db, 'vic', 'viewer password', 'viewer');
  const viewer = new ApiClient(base);
  assert.equal((await viewer.login('vic', 'viewer password')).status, 200);
  const fromApi = await viewer.req<AuditOutcome>('GET', '/api/v1/ha/audit?windowSec=3600');
  assert.equal(fromApi.status, 200);
  assert.equal(fromApi.body.ok, false);
  assert.deepEqual(fromApi.body.capacity, three.report.capacity, 'the API answers what the CLI prints');
});
