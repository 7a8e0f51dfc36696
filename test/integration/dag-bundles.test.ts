// DAG bundles: the DAG processor stores each file with the local modules it imports in the
// database, runs are pinned to their DAG version, and workers run the task code of that
// version from the database (their own DAG folder here is empty). The task code differs
// observably between versions: it returns the VERSION of an imported helper module.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DagProcessor } from '../../src/dag-processor/processor.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testLog, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { dagSource, tempDags, type TempDags } from '../support/temp-dags.js';

let t: TestDatabase;
let dags: TempDags;
let workerDir: string;
let flags: string;
let control: TestCluster;
let worker: TestCluster;

// `slow` waits for a flag file of its run, so a test can change the DAG folder while a run is under way.
const dagFile = (tag: string) => dagSource(`
import { existsSync } from 'node:fs';
import { VERSION } from './lib/version.ts';
export default dag({ id: 'bundled' }, (d) => {
  const first = d.task('first', () => VERSION + ${JSON.stringify(tag)});
  const slow = d.task('slow', { upstream: first }, async (ctx) => {
    while (!existsSync(${JSON.stringify(flags)} + '/' + ctx.runId.replace(/[^a-z0-9]/gi, '_'))) await new Promise((r) => setTimeout(r, 50));
    return 'waited';
  });
  d.task('last', { upstream: slow }, () => VERSION + ${JSON.stringify(tag)});
});`);

const release = (runId: string) => writeFileSync(join(flags, runId.replace(/[^a-z0-9]/gi, '_')), '');

async function results(runDbId: string): Promise<Record<string, unknown>> {
  const r = await t.db.query<{ task_id: string; result: unknown }>('SELECT task_id, result FROM task_instance WHERE dag_run_id = $1', [runDbId]);
  return Object.fromEntries(r.rows.map((x) => [x.task_id, x.result]));
}

async function currentVersion(): Promise<string> {
  return (await t.db.query<{ version_hash: string }>(`SELECT version_hash FROM dag WHERE dag_id = 'bundled'`)).rows[0]!.version_hash;
}

async function running(runDbId: string, taskId: string): Promise<void> {
  await waitFor(`${taskId} to run`, async () => (await t.db.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND task_id = $2 AND state = 'running'`, [runDbId, taskId])).rowCount);
}

before(async () => {
  t = await freshDatabase();
  dags = tempDags();
  flags = mkdtempSync(join(tmpdir(), 'keel-flags-'));
  workerDir = mkdtempSync(join(tmpdir(), 'keel-worker-'));
  dags.write('lib/version.ts', `export const VERSION = 'v1';\n`);
  dags.write('bundled.ts', dagFile(''));
  control = await startRoles(testOptions(t.url, dags.dir), ['dag-processor', 'scheduler']);
  // The worker's DAG folder is empty: every task's code must come from the database.
  const emptyFolder = join(workerDir, 'dags');
  worker = await startRoles(testOptions(t.url, emptyFolder, { dataDir: join(workerDir, 'data') }), ['worker']);
  await waitForDag(t.db, 'bundled');
});

after(async () => {
  await worker?.stop();
  await control?.stop();
  await t?.drop();
  dags?.cleanup();
  rmSync(flags, { recursive: true, force: true });
  rmSync(workerDir, { recursive: true, force: true });
});

test('the DAG file and the module it imports are stored as one content-addressed bundle', async () => {
  const r = await t.db.query<{ entry: string; files: Record<string, string>; bundle_hash: string }>(
    `SELECT b.entry, b.files, b.bundle_hash FROM dag d JOIN dag_version v USING (dag_id, version_hash) JOIN dag_bundle b ON b.bundle_hash = v.bundle_hash WHERE d.dag_id = 'bundled'`);
  assert.equal(r.rowCount, 1);
  assert.equal(r.rows[0]!.entry, 'bundled.ts');
  assert.deepEqual(Object.keys(r.rows[0]!.files).sort(), ['bundled.ts', 'lib/version.ts']);
  assert.match(r.rows[0]!.bundle_hash, /^[0-9a-f]{64}$/);
});

test('a worker with an empty DAG folder runs the tasks; a run started before an edit finishes on its own version', async () => {
  const before = await currentVersion();
  const old = await triggerDag(t.db, 'bundled');
  await running(old.id, 'slow');
  // Edit the helper module (not the DAG file's shape): a new version with other task code.
  dags.write('lib/version.ts', `export const VERSION = 'v2';\n`);
  dags.write('bundled.ts', dagFile(' edited'));
  await waitFor('the edited version to be stored', async () => (await currentVersion()) !== before);
  release(old.runId);
  assert.equal(await waitForRunEnd(t.db, old.id), 'success');
  assert.deepEqual(await results(old.id), { first: 'v1', slow: 'waited', last: 'v1' }, 'the old run ran its own version to the end');
  const fresh = await triggerDag(t.db, 'bundled');
  release(fresh.runId);
  assert.equal(await waitForRunEnd(t.db, fresh.id), 'success');
  assert.deepEqual(await results(fresh.id), { first: 'v2 edited', slow: 'waited', last: 'v2 edited' });
});

test('a file broken after loading keeps its last good version: new runs use it, and the import error is shown', async () => {
  const good = await currentVersion();
  dags.write('bundled.ts', `${dagFile(' edited')}\nthis is not TypeScript (\n`);
  await waitFor('the import error', async () => (await t.db.query<{ import_error: string | null }>(`SELECT import_error FROM dag_file WHERE fileloc = 'bundled.ts'`)).rows[0]?.import_error);
  assert.equal(await currentVersion(), good, 'the DAG keeps its last good version');
  const run = await triggerDag(t.db, 'bundled');
  release(run.runId);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success', 'the broken file burns no tries: the tasks run the stored code');
  assert.deepEqual(await results(run.id), { first: 'v2 edited', slow: 'waited', last: 'v2 edited' });
  dags.write('bundled.ts', dagFile(' edited'));
  await waitFor('the import error to clear', async () => (await t.db.query(`SELECT 1 FROM dag_file WHERE fileloc = 'bundled.ts' AND import_error IS NULL`)).rowCount);
});

test('a file deleted mid-run lets the run finish', async () => {
  const run = await triggerDag(t.db, 'bundled');
  await running(run.id, 'slow');
  dags.remove('bundled.ts');
  dags.remove('lib/version.ts');
  await waitFor('the DAG to be deactivated', async () => (await t.db.query(`SELECT 1 FROM dag WHERE dag_id = 'bundled' AND NOT is_active`)).rowCount);
  release(run.runId);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await results(run.id), { first: 'v2 edited', slow: 'waited', last: 'v2 edited' });
});

test('a bundle over dagBundleMaxBytes is an import error naming the limit and the largest file, and stores nothing', async () => {
  const big = tempDags();
  try {
    big.write('data.ts', `export const DATA = ${JSON.stringify('x'.repeat(5000))};\n`);
    big.write('big.ts', dagSource(`import { DATA } from './data.ts';\nexport default dag({ id: 'too_big' }, (d) => { d.task('t', () => DATA.length); });`));
    const processor = new DagProcessor(t.db, { dagsFolder: big.dir, dagFileTimeoutSec: 30, dagReparseIntervalSec: 60, dagBundleMaxBytes: 4096 }, testLog());
    const scan = await processor.scan();
    assert.match(scan.errors['big.ts'] ?? '', /over the bundle limit of 4096 \(dagBundleMaxBytes\); largest: data\.ts \d+ bytes/);
    assert.equal((await t.db.query(`SELECT 1 FROM dag WHERE dag_id = 'too_big'`)).rowCount, 0);
    await processor.stop();
  } finally {
    big.cleanup();
  }
});
