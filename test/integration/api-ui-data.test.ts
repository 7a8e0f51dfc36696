// What the web UI's code view and HA dashboard read: the source a run executes (its DAG
// version's bundle) and the redundancy of the deployment — every role with its copies alive
// against expectedCopies, and each single point of failure. A viewer may read both.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createUser } from '../../src/auth/users.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testLog, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { startRole, type RunningRole } from '../../src/runtime/roles.js';
import { ApiClient } from '../support/api.js';

const DAGS = fileURLToPath(new URL('../fixtures/api/', import.meta.url));
let t: TestDatabase;
let cluster: TestCluster;
let second: RunningRole | undefined;
let viewer: ApiClient;
let admin: ApiClient;

before(async () => {
  t = await freshDatabase();
  const options = (nodeName: string) => testOptions(t.url, DAGS, { apiPort: 0, apiDrainSec: 0, expectedCopies: 'scheduler=2,worker=2,api=1', nodeName });
  cluster = await startRoles(options('n1'), ['dag-processor', 'scheduler', 'worker', 'api']);
  // The second scheduler on another node: only copies on two nodes are redundant.
  second = await startRole('scheduler', options('n2'), testLog());
  await waitForDag(t.db, 'api_dag');
  await createUser(t.db, 'vic', 'viewer password', 'viewer');
  await createUser(t.db, 'ada', 'admin password', 'admin');
  viewer = new ApiClient(`http://127.0.0.1:${cluster.role('api').apiPort}`);
  assert.equal((await viewer.login('vic', 'viewer password')).status, 200);
  admin = new ApiClient(viewer.base);
  assert.equal((await admin.login('ada', 'admin password')).status, 200);
});
after(async () => {
  await second?.stop();
  await cluster?.stop();
  await t?.drop();
});

test("a run's DAG source: the bundle of its version, the DAG file first, secret values masked for non-admins as in task logs; 404 for a run that does not exist", async () => {
  const run = await triggerDag(t.db, 'api_dag');
  await waitForRunEnd(t.db, run.id);
  // A value of a sensitive variable that the DAG file happens to contain.
  await t.db.query(`INSERT INTO variable (key, value) VALUES ('greeting_password', 'says hello')`);
  const source = readFileSync(`${DAGS}api.ts`, 'utf8');
  assert.ok(source.includes('says hello'));
  const r = await viewer.req('GET', `/api/v1/runs/${run.id}/dagSource`);
  assert.equal(r.status, 200);
  assert.equal(r.body.entry, 'api.ts');
  assert.equal(r.body.files[0].path, 'api.ts', 'the DAG file comes first');
  assert.equal(r.body.files[0].source, source.replaceAll('says hello', '***'), 'masked for a viewer');
  assert.equal((await admin.req('GET', `/api/v1/runs/${run.id}/dagSource`)).body.files[0].source, source, 'as stored for an admin');
  assert.match(r.body.versionHash, /^[0-9a-f]+$/);
  const missing = await viewer.req('GET', '/api/v1/runs/999999/dagSource');
  assert.equal(missing.status, 404);
  assert.match(missing.body.message, /no DAG run with id 999999/);
});

test('redundancy (keel ha audit): every role with alive and configured copies; one copy, a role without copies and an unreplicated database are single points of failure', async () => {
  const r = await waitFor('every copy alive', async () => {
    const x = await viewer.req('GET', '/api/v1/ha');
    return x.body.roles?.find((c: { role: string }) => c.role === 'scheduler')?.alive === 2 ? x : null;
  });
  assert.equal(r.status, 200);
  const roles = Object.fromEntries(r.body.roles.map((c: { role: string; alive: number; configured: number | null; status: string; singlePointOfFailure: boolean }) => [c.role, [c.alive, c.configured, c.status, c.singlePointOfFailure]]));
  assert.deepEqual(roles, {
    scheduler: [2, 2, 'redundant', false],
    worker: [1, 2, 'below', true],
    'dag-processor': [1, null, 'single', true],
    triggerer: [0, null, 'absent', true],
    api: [1, 1, 'single', true],
  });
  assert.deepEqual(r.body.roles.find((x: { role: string }) => x.role === 'scheduler').nodes, ['n1', 'n2']);
  assert.equal(r.body.database.singlePointOfFailure, true);
  assert.match(r.body.database.note, /^no replica streams from the database primary/);
  assert.deepEqual(r.body.singlePointsOfFailure, ['worker', 'dag-processor', 'triggerer', 'api', 'database']);
});
