// Maintenance mode (`keel maintenance on --message …`): schedulers create and queue
// nothing, a running task finishes, the API keeps serving and shows the message; `off`
// resumes the run where it stopped. The announcement banner (`keel announce`) likewise.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { setMaintenance } from '../../src/ha/operator-notice.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, taskStates, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { afterLoopTurns } from '../support/turns.js';
import { expectCode, runKeel } from '../support/cli.js';

const DAGS = fileURLToPath(new URL('../fixtures/maintenance/', import.meta.url));
let t: TestDatabase;
let cluster: TestCluster;
const keel = (args: string[]) => runKeel(args, { KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS });

before(async () => {
  t = await freshDatabase();
  cluster = await startRoles(testOptions(t.url, DAGS, { apiPort: 0, apiDrainSec: 0, healthPort: 0 }), ['dag-processor', 'scheduler', 'worker', 'api']);
  await waitForDag(t.db, 'mnt_chain');
});
after(async () => {
  await cluster?.stop();
  await t?.drop();
});

test('maintenance on: the running task finishes, nothing new is queued or started; off resumes', async () => {
  const run = await triggerDag(t.db, 'mnt_chain');
  await waitFor('first to run', async () => (await taskStates(t.db, run.id)).first === 'running');
  // What `keel maintenance on` runs (the CLI itself is tested below: its start-up takes longer than the task).
  await setMaintenance(t.db, true, 'database upgrade until 14:00 UTC');

  // The worker finishes what it runs; the next task is decided (scheduled) but not queued.
  await waitFor('first to finish', async () => (await taskStates(t.db, run.id)).first === 'success', 20_000);
  const later = await triggerDag(t.db, 'mnt_chain');
  await afterLoopTurns(cluster.role('scheduler').healthPort!, 3);
  const states = await taskStates(t.db, run.id);
  assert.ok(['pending', 'scheduled'].includes(states.second!), `second stays unqueued in maintenance (${states.second})`);
  // A manual trigger is still accepted (the API serves), but none of its tasks is queued.
  assert.deepEqual(Object.values(await taskStates(t.db, later.id)).filter((s) => s !== 'pending' && s !== 'scheduled'), [], 'no task of a run triggered in maintenance is queued');

  // The API keeps serving and says why nothing moves.
  const api = `http://127.0.0.1:${cluster.role('api').apiPort}`;
  const metrics = await (await fetch(`${api}/metrics`)).text();
  assert.match(metrics, /^keel_maintenance_mode 1$/m);
  const notice = await (await fetch(`${api}/api/v1/notice`)).json() as { maintenance: boolean; maintenanceMessage: string };
  assert.equal(notice.maintenanceMessage, 'database upgrade until 14:00 UTC');

  await setMaintenance(t.db, false, null);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.equal(await waitForRunEnd(t.db, later.id), 'success');
  assert.match(await (await fetch(`${api}/metrics`)).text(), /^keel_maintenance_mode 0$/m);
});

test('keel maintenance on|status|off and keel announce; bad input changes nothing', async () => {
  const on = await keel(['maintenance', 'on', '--message', 'database upgrade until 14:00 UTC']);
  expectCode(on, 0);
  assert.match(on.stdout, /maintenance: on since .* — database upgrade until 14:00 UTC/);
  const status = await keel(['maintenance', 'status', '--json']);
  expectCode(status, 0);
  assert.equal(JSON.parse(status.stdout).maintenanceMessage, 'database upgrade until 14:00 UTC');
  expectCode(await keel(['maintenance', 'off']), 0);
  const set = await keel(['announce', 'Keel 2.1 on Monday']);
  expectCode(set, 0);
  assert.match(set.stdout, /announcement: Keel 2.1 on Monday/);
  const empty = await keel(['maintenance', 'on', '--message', '  ']);
  assert.equal(empty.code, 2, empty.stderr);
  assert.match(empty.stderr, /--message/);
  const row = (await t.db.query<{ maintenance: boolean; announcement: string | null }>('SELECT maintenance, announcement FROM operator_notice')).rows[0]!;
  assert.deepEqual(row, { maintenance: false, announcement: 'Keel 2.1 on Monday' });
  expectCode(await keel(['announce', '--clear']), 0);
  assert.equal((await t.db.query('SELECT announcement FROM operator_notice')).rows[0]!.announcement, null);
});
