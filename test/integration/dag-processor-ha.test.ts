// DAG processors in HA, with real processes on one folder of 40 generated DAG files: the
// files are split by leases and each is parsed once, not once per processor; kill -9 of a
// processor moves its files to the survivor within seconds (and a file changed meanwhile
// is still parsed again); no DAG turns inactive while a processor dies; the folder watcher
// parses an edited file within a second or two (the periodic scan is set to a minute
// here, so only the watcher can explain it); a deleted file deactivates its DAG.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/cluster.js';
import { KEEL_BIN, killAll, spawnKeel, type KeelProcess } from '../support/processes.js';
import { dagSource, tempDags, type TempDags } from '../support/temp-dags.js';
import { freePort } from '../../src/free-port.js';

const FILES = 40;
let t: TestDatabase;
let dags: TempDags;
const started: KeelProcess[] = [];
let a: KeelProcess;
let b: KeelProcess;

const name = (i: number) => `gen_${String(i).padStart(3, '0')}.ts`;
const dagId = (i: number) => `gen_${String(i).padStart(3, '0')}`;
const source = (i: number, tasks = 2) => dagSource(`
export default dag({ id: '${dagId(i)}', schedule: '@daily', startDate: '2026-01-01', catchup: false }, (d) => {
${Array.from({ length: tasks }, (_, k) => `  d.task('t${k}', ${k ? `{ upstream: 't${k - 1}' }, ` : ''}() => ${k});`).join('\n')}
});`);

function env(): Record<string, string> {
  return {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: dags.dir, KEEL_DB_OUTAGE_GRACE_SEC: '0',
    // A minute between full scans: anything faster is the watcher's or the lease timer's doing.
    KEEL_DAG_SCAN_INTERVAL_SEC: '60',
  };
}
function processor(extra: Record<string, string> = {}): KeelProcess {
  const p = spawnKeel(['dag-processor'], { ...env(), ...extra });
  started.push(p);
  return p;
}
async function componentOf(p: KeelProcess): Promise<string> {
  return waitFor(`process ${p.child.pid} to register`, async () =>
    (await t.db.query<{ id: string }>(`SELECT id FROM component WHERE pid = $1 AND state = 'running'`, [p.child.pid])).rows[0]?.id);
}
/** How many times each file was loaded, from the processes' JSON logs. */
function loads(list: KeelProcess[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of list) {
    for (const line of p.output().split('\n')) {
      if (!line.includes('"DAG file loaded"')) continue;
      const file = (JSON.parse(line) as { file: string }).file;
      out.set(file, (out.get(file) ?? 0) + 1);
    }
  }
  return out;
}
async function leasesBy(): Promise<Map<string, number>> {
  const r = await t.db.query<{ holder_id: string; n: number }>(`SELECT holder_id, count(*)::int AS n FROM dag_file_lease WHERE expires_at > now() GROUP BY holder_id`);
  return new Map(r.rows.map((x) => [x.holder_id, x.n]));
}
async function activeCount(): Promise<number> {
  return (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dag WHERE is_active`)).rows[0]!.n;
}
/**
 * Waits until each processor has finished a scan that listed the folder after this call
 * (its heartbeat shows when its last scan listed it, by the database clock): whatever a
 * processor would still parse or deactivate after what happened so far, it has by then.
 * The full scan comes only once a minute, so the test nudges the folder (a dot file, which
 * is no DAG file) to make the watchers start one.
 */
async function scannedSince(ids: string[]): Promise<void> {
  const since = (await t.db.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
  for (const id of ids) {
    await waitFor(`processor ${id} to finish a scan`, async () => {
      const r = await t.db.query<{ at: string | null }>(`SELECT details ->> 'lastScanListedAt' AS at FROM component WHERE id = $1`, [id]);
      const at = r.rows[0]?.at;
      if (at && new Date(at) > since) return true;
      writeFileSync(join(dags.dir, '.nudge'), String(Date.now()));
      return false;
    }, 20_000, 200);
  }
}
async function taskCount(id: string): Promise<number> {
  const r = await t.db.query<{ n: number }>(`SELECT jsonb_array_length(serialized -> 'tasks') AS n FROM dag WHERE dag_id = $1`, [id]);
  return r.rows[0]?.n ?? 0;
}

before(async () => {
  t = await freshDatabase();
  dags = tempDags('keel-dags-ha-');
  for (let i = 0; i < FILES; i++) dags.write(name(i), source(i));
});
after(async () => {
  await killAll(started);
  await t?.drop();
  dags?.cleanup();
});

test('two processors on one folder split the files by leases and parse each file once', async () => {
  const healthPort = await freePort();
  a = processor({ KEEL_HEALTH_PORT: String(healthPort) });
  b = processor();
  const [idA, idB] = [await componentOf(a), await componentOf(b)];
  const startedAt = Date.now();
  await waitFor(`${FILES} DAGs stored`, async () => (await activeCount()) === FILES, 60_000, 100);
  console.log(`# ${FILES} files parsed by two processors in ${Date.now() - startedAt} ms`);
  // Both end up holding half of the files (the first to start may take all, then gives half back).
  const split = await waitFor('the files to be split evenly', async () => {
    const by = await leasesBy();
    return by.get(idA) === FILES / 2 && by.get(idB) === FILES / 2 ? by : null;
  }, 20_000, 100);
  assert.equal(split.size, 2);
  await scannedSince([idA, idB]); // a late second parse would show by now
  const counted = loads([a, b]);
  assert.equal(counted.size, FILES, 'every file loaded');
  const twice = [...counted].filter(([, n]) => n !== 1);
  assert.deepEqual(twice, [], 'no file loaded more than once');
  const importErrors = await t.db.query(`SELECT fileloc FROM dag_file WHERE import_error IS NOT NULL`);
  assert.equal(importErrors.rowCount, 0);

  // keel ha status shows what each processor holds.
  const status = spawnSync(process.execPath, [KEEL_BIN, 'ha', 'status', '--json'], { env: { ...process.env, ...env(), KEEL_LOG_LEVEL: 'silent' }, encoding: 'utf8' });
  assert.equal(status.status, 0, status.stderr);
  const components = (JSON.parse(status.stdout) as { components: { id: string; role: string; file_leases: number; details: { fileLeases: number; filesListed: number } }[] }).components;
  for (const id of [idA, idB]) {
    const c = components.find((x) => x.id === id);
    assert.equal(c?.role, 'dag-processor');
    assert.equal(c?.file_leases, FILES / 2);
    await waitFor('the heartbeat to carry the lease count', async () => {
      const r = await t.db.query<{ details: { fileLeases?: number; filesListed?: number } }>(`SELECT details FROM component WHERE id = $1`, [id]);
      return r.rows[0]?.details.fileLeases === FILES / 2 && r.rows[0]?.details.filesListed === FILES;
    }, 5000);
  }
  const text = spawnSync(process.execPath, [KEEL_BIN, 'ha', 'status'], { env: { ...process.env, ...env(), KEEL_LOG_LEVEL: 'silent' }, encoding: 'utf8' });
  assert.match(text.stdout, new RegExp(`${FILES / 2} file lease\\(s\\)`));
  const health = spawnSync(process.execPath, [KEEL_BIN, 'health', '--role', 'dag-processor'], { env: { ...process.env, ...env(), KEEL_LOG_LEVEL: 'silent' }, encoding: 'utf8' });
  assert.equal(health.status, 0, health.stdout + health.stderr);

  // Metrics: the leases this process holds, its parse times, the cluster's import errors.
  assert.equal((await fetch(`http://127.0.0.1:${healthPort}/health/live`)).status, 200);
  const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`^keel_dag_file_leases ${FILES / 2}$`, 'm'));
  assert.match(metrics, /^keel_dag_import_errors 0$/m);
  const parsedByA = loads([a]).size;
  const count = /^keel_dag_file_parse_seconds_count\{outcome="loaded"\} (\d+)$/m.exec(metrics)?.[1];
  assert.equal(Number(count ?? 0), parsedByA, 'one parse time per file this process loaded');
});

test('kill -9 of a processor: the survivor takes its files over within seconds, a file changed meanwhile is parsed, no DAG turns inactive', async () => {
  const [idA, idB] = [await componentOf(a), await componentOf(b)];
  const ofA = (await t.db.query<{ fileloc: string }>(`SELECT fileloc FROM dag_file_lease WHERE holder_id = $1 ORDER BY fileloc`, [idA])).rows.map((r) => r.fileloc);
  assert.equal(ofA.length, FILES / 2);
  // Watch for any DAG turning inactive, every 50 ms, for the whole takeover.
  let inactiveSeen = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      inactiveSeen = Math.max(inactiveSeen, FILES - (await activeCount()));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const changedFile = ofA[3]!;
  const changedIndex = Number(changedFile.slice(4, 7));
  const loadedBefore = loads([b]); // b may have loaded some of a's files at the start, before the split
  const killedAt = Date.now();
  a.child.kill('SIGKILL');
  await a.exited;
  dags.write(changedFile, source(changedIndex, 3)); // the dead processor held this file
  await waitFor('the survivor to hold every file', async () => (await leasesBy()).get(idB) === FILES, 15_000, 20);
  const takenOverMs = Date.now() - killedAt;
  await waitFor('the changed file to be parsed again', async () => (await taskCount(dagId(changedIndex))) === 3, 15_000, 20);
  const reparsedMs = Date.now() - killedAt;
  console.log(`# processor killed → its ${FILES / 2} files held by the survivor: ${takenOverMs} ms; changed file parsed: ${reparsedMs} ms`);
  await scannedSince([idB]);
  watching = false;
  await watcher;
  assert.equal(inactiveSeen, 0, 'no DAG turned inactive while its processor died');
  assert.ok(takenOverMs < 10_000, `taken over in ${takenOverMs} ms, long before the 30 s leases expire`);
  // The survivor parsed only what changed, not the 20 files it took over.
  const survivorLoads = loads([b]);
  const since = (f: string) => (survivorLoads.get(f) ?? 0) - (loadedBefore.get(f) ?? 0);
  assert.equal(since(changedFile), 1);
  const reparsedUnchanged = ofA.filter((f) => f !== changedFile && since(f) > 0);
  assert.deepEqual(reparsedUnchanged, [], 'files taken over are not parsed again when unchanged');
});

test('the folder watcher parses an edited file within a second or two; a new file too; a deleted file deactivates its DAG', async () => {
  const edited = 7;
  let at = Date.now();
  dags.write(name(edited), source(edited, 4));
  await waitFor('the edited file to be parsed', async () => (await taskCount(dagId(edited))) === 4, 10_000, 20);
  const editMs = Date.now() - at;

  at = Date.now();
  dags.write(name(FILES), source(FILES));
  await waitFor('the new file to be parsed', async () => (await activeCount()) === FILES + 1, 10_000, 20);
  const newMs = Date.now() - at;

  at = Date.now();
  dags.remove(name(edited));
  await waitFor('the deleted file\'s DAG to be deactivated', async () =>
    (await t.db.query(`SELECT 1 FROM dag WHERE dag_id = $1 AND NOT is_active`, [dagId(edited)])).rowCount, 10_000, 20);
  const deleteMs = Date.now() - at;
  console.log(`# watcher: edit parsed in ${editMs} ms, new file in ${newMs} ms, deletion deactivated in ${deleteMs} ms (full scan every 60 s)`);
  assert.ok(editMs < 2500 && newMs < 2500 && deleteMs < 2500, 'within a second or two, not at the next full scan');
  assert.equal((await t.db.query(`SELECT 1 FROM dag_file WHERE fileloc = $1`, [name(edited)])).rowCount, 0, 'the file is forgotten');
  assert.equal((await t.db.query(`SELECT 1 FROM dag_file_lease WHERE fileloc = $1`, [name(edited)])).rowCount, 0, 'and so is its lease');
  await scannedSince([await componentOf(b)]);
  assert.equal(await activeCount(), FILES, 'only that DAG was deactivated');
});

test('a processor stopped with SIGTERM gives its leases back at once', async () => {
  const c = processor();
  const idC = await componentOf(c);
  const idB = await componentOf(b);
  await waitFor('the new processor to take its share', async () => ((await leasesBy()).get(idC) ?? 0) >= FILES / 2 - 1, 20_000, 50);
  b.child.kill('SIGTERM');
  assert.equal(await b.exited, 0);
  assert.equal((await leasesBy()).get(idB), undefined, 'no lease left to the stopped processor');
  await waitFor('the remaining processor to hold every file', async () => (await leasesBy()).get(idC) === FILES, 10_000, 50);
  assert.equal(await activeCount(), FILES);
});

test('a frozen processor (SIGSTOP) loses its files when their leases expire; after SIGCONT it gets its share back', async () => {
  const c = started.at(-1)!;
  const idC = await componentOf(c);
  const d = spawnKeel(['dag-processor'], { ...env(), KEEL_DAG_FILE_LEASE_SEC: '3' });
  started.push(d);
  const idD = await componentOf(d);
  await waitFor('the new processor to take its share', async () => ((await leasesBy()).get(idD) ?? 0) >= FILES / 2 - 1, 20_000, 50);
  const ofD = (await t.db.query<{ fileloc: string }>(`SELECT fileloc FROM dag_file_lease WHERE holder_id = $1 ORDER BY fileloc`, [idD])).rows.map((r) => r.fileloc);
  const changedFile = ofD[0]!;
  const changedIndex = Number(changedFile.slice(4, 7));
  const frozenAt = Date.now();
  d.child.kill('SIGSTOP');
  dags.write(changedFile, source(changedIndex, 5));
  try {
    await waitFor('the other processor to hold every file', async () => (await leasesBy()).get(idC) === FILES, 20_000, 50);
    const takenOverMs = Date.now() - frozenAt;
    await waitFor('the changed file to be parsed', async () => (await taskCount(dagId(changedIndex))) === 5, 10_000, 50);
    console.log(`# processor frozen → its files held by the other: ${takenOverMs} ms (3 s leases; it stops counting as live after 5 s without a heartbeat)`);
    assert.equal(await activeCount(), FILES, 'no DAG turned inactive');
  } finally {
    d.child.kill('SIGCONT');
  }
  await waitFor('the thawed processor to get its share back', async () => ((await leasesBy()).get(idD) ?? 0) >= FILES / 2 - 1, 20_000, 50);
  await scannedSince([idD]);
  assert.equal(loads([d]).get(changedFile), undefined, 'the thawed processor did not parse the file it had lost');
  assert.equal(await taskCount(dagId(changedIndex)), 5);

  // With both processors live, deleting a file deactivates its DAG, and only that one.
  const heldByC = (await t.db.query<{ fileloc: string }>(`SELECT fileloc FROM dag_file_lease WHERE holder_id = $1 ORDER BY fileloc LIMIT 1`, [idC])).rows[0]!.fileloc;
  const goneIndex = Number(heldByC.slice(4, 7));
  dags.remove(heldByC);
  await waitFor('the deleted file\'s DAG to be deactivated', async () =>
    (await t.db.query(`SELECT 1 FROM dag WHERE dag_id = $1 AND NOT is_active`, [dagId(goneIndex)])).rowCount, 10_000, 20);
  await scannedSince([idC, idD]);
  assert.equal(await activeCount(), FILES - 1);
});
