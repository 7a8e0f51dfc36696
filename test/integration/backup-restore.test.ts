// Disaster recovery on the embedded database (docs/disaster-recovery.md), with real
// processes: a `keel standalone` runs a small workload, `keel backup` copies it while one
// attempt is running, more runs follow, then `keel restore` into a new folder and a new
// standalone on it: the runs from before the backup are there and the one after is not, the
// attempt running at the recovery point is fenced and retried (one new try, never two), and
// `keel backup verify` passes. Bad input (a non-empty target, a missing, corrupt or newer
// manifest, corrupt data) is refused with exit 2 and writes nothing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Database } from '../../src/db/database.js';
import { freePort } from '../../src/free-port.js';
import { KeelMetrics } from '../../src/observability/metrics.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { expectCode, runKeel } from '../support/cli.js';
import { isRunning, killAll, spawnKeel, type KeelProcess } from '../support/processes.js';

const DAGS = fileURLToPath(new URL('../fixtures/backup/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'keel-backup-restore-'));
chmodSync(root, 0o777); // as root the servers run as the postgres user, who must enter it
const data1 = join(root, 'data1');
const restored = join(root, 'restored');
const backupDir = join(root, 'backup');
const keyFile = join(root, 'escrow', 'secret-key');
const marks = join(root, 'marks');
const started: KeelProcess[] = [];
const pools: Database[] = [];

function postmasterPid(dataDir: string): number | null {
  const file = join(dataDir, 'pgdata', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : null;
}

async function stopServer(dataDir: string): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (pid && isRunning(pid)) process.kill(pid, 'SIGINT');
  while (postmasterPid(dataDir) && isRunning(postmasterPid(dataDir)!)) await sleep(100);
}

after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await killAll(started);
  await stopServer(data1);
  await stopServer(restored);
  rmSync(root, { recursive: true, force: true });
});

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

async function standalone(dataDir: string, port: number): Promise<{ p: KeelProcess; db: Database }> {
  const p = spawnKeel(['standalone'], {
    KEEL_DATA_DIR: dataDir, KEEL_EMBEDDED_PORT: String(port), KEEL_API_PORT: '0', KEEL_DAGS_FOLDER: DAGS,
    KEEL_TASK_ENV_ALLOW: 'BR_MARKS', BR_MARKS: marks,
  });
  started.push(p);
  await until('keel standalone to run', async () => p.output().includes('keel standalone running') || p.child.exitCode !== null);
  assert.ok(p.output().includes('keel standalone running'), p.output());
  const password = readFileSync(join(dataDir, 'postgres-password'), 'utf8').trim();
  const db = new Database(`postgres://keel:${password}@127.0.0.1:${port}/postgres`, { size: 2, applicationName: 'keel-test' });
  pools.push(db);
  await until('the DAGs to load', async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM dag WHERE dag_id IN ('br_quick', 'br_hold')")).rows[0]!.n === 2);
  return { p, db };
}

const runState = async (db: Database, id: string) => (await db.query<{ state: string }>('SELECT state FROM dag_run WHERE id = $1', [id])).rows[0]?.state;
const marksOf = () => (existsSync(marks) ? readFileSync(marks, 'utf8').trim().split('\n') : []);
const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : null);

test('back up with an attempt running, restore into a new folder, start Keel on it: the runs before the backup are there, the one after is not, the attempt is fenced and retried once; verify passes; bad input writes nothing', async () => {
  const port1 = await freePort();
  const old = await standalone(data1, port1);
  const before = [await triggerDag(old.db, 'br_quick'), await triggerDag(old.db, 'br_quick')];
  for (const r of before) await until(`run ${r.runId} to succeed`, async () => (await runState(old.db, r.id)) === 'success');
  const held = await triggerDag(old.db, 'br_hold');
  await until('the held try to start', async () => marksOf().length === 1);
  const env = { KEEL_DATA_DIR: data1, KEEL_EMBEDDED_PORT: String(port1) };

  mkdirSync(join(root, 'escrow'));
  const backup = await runKeel(['backup', '--to', backupDir, '--secret-key-to', keyFile], env);
  expectCode(backup, 0);
  assert.match(backup.stdout, /the secret key is in .*secret-key \(0600\): keep it apart from the backup/);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const key = readFileSync(keyFile, 'utf8').trim();
  assert.equal(key, readFileSync(join(data1, 'secret-key'), 'utf8').trim());
  const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'));
  assert.equal(manifest.secretKey, 'file');
  assert.equal(manifest.lastRun.run_id, held.runId);
  assert.equal(manifest.counts.running_attempts, 1);
  assert.ok(!readFileSync(join(backupDir, 'manifest.json'), 'utf8').includes(key), 'the key is not in the manifest');
  assert.ok(!existsSync(join(backupDir, 'secret-key')) && !existsSync(join(backupDir, 'pgdata', 'secret-key')));
  const metric = await new KeelMetrics(old.db).registry.getSingleMetricAsString('keel_backup_last_age_seconds');
  assert.match(metric, /^keel_backup_last_age_seconds \d+(\.\d+)?$/m, metric);

  const afterBackup = await triggerDag(old.db, 'br_quick');
  await until('the run after the backup to succeed', async () => (await runState(old.db, afterBackup.id)) === 'success');

  // Bad input: each refused with exit 2, a message naming the file and the fix, nothing written.
  const target = join(root, 'never');
  const refused = async (args: string[], message: RegExp, runEnv: Record<string, string> = {}) => {
    const r = await runKeel(args, runEnv);
    expectCode(r, 2);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /nothing was written/);
    assert.equal(existsSync(target), false, `${args.join(' ')} wrote ${target}`);
  };
  const occupied = join(root, 'occupied');
  mkdirSync(occupied);
  writeFileSync(join(occupied, 'keep.txt'), 'mine');
  const r1 = await runKeel(['restore', '--from', backupDir, '--to', occupied], {});
  expectCode(r1, 2);
  assert.match(r1.stderr, /--to .*occupied is not empty \(keep\.txt\): restore into a new or empty folder/);
  assert.deepEqual(listing(occupied), ['keep.txt']);
  assert.equal(readFileSync(join(occupied, 'keep.txt'), 'utf8'), 'mine');
  await refused(['backup', '--to', backupDir], /--to .*backup is not empty/, env);
  await refused(['backup', '--to', target, '--secret-key-to', keyFile], /--secret-key-to .* exists: name a new file/, env);
  const noManifest = join(root, 'no-manifest');
  mkdirSync(join(noManifest, 'pgdata'), { recursive: true });
  await refused(['restore', '--from', noManifest, '--to', target], /no-manifest\/manifest\.json is missing: .*point --from at a folder written by `keel backup --to`/);
  const corrupt = join(root, 'corrupt-manifest');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'manifest.json'), '{"format": 1,');
  await refused(['restore', '--from', corrupt, '--to', target], /corrupt-manifest\/manifest\.json is not valid JSON .*the backup is corrupt/);
  const newer = join(root, 'newer');
  mkdirSync(newer);
  writeFileSync(join(newer, 'manifest.json'), JSON.stringify({ ...manifest, schemaVersion: 9999, keelVersion: '9.9.9' }));
  await refused(['restore', '--from', newer, '--to', target], /newer\/manifest\.json: the backup is at schema version 9999, newer than this Keel knows \(\d+\): restore it with Keel 9\.9\.9 or newer/);
  await refused(['backup', 'verify', '--from', newer], /schema version 9999/);
  const damaged = join(root, 'damaged');
  cpSync(backupDir, damaged, { recursive: true });
  appendFileSync(join(damaged, 'pgdata', 'PG_VERSION'), 'x');
  await refused(['restore', '--from', damaged, '--to', target], /damaged\/pgdata does not match its backup_manifest .*corrupt or incomplete; take a new backup/);

  // The old fleet is gone (killed with its server), as in a real disaster.
  await killAll([old.p]);
  await stopServer(data1);

  const restore = await runKeel(['restore', '--from', backupDir, '--to', restored, '--secret-key-from', keyFile], {});
  expectCode(restore, 0);
  assert.match(restore.stdout, /fenced 1 component\(s\) of the old fleet; 1 attempt\(s\) running at the recovery point fenced and retried per policy/);
  assert.match(restore.stdout, new RegExp(`KEEL_DATA_DIR=${restored} keel standalone`));
  assert.equal(readFileSync(join(restored, 'secret-key'), 'utf8').trim(), key);

  const verify = await runKeel(['backup', 'verify', '--from', backupDir, '--json'], {});
  expectCode(verify, 0);
  const report = JSON.parse(verify.stdout);
  assert.equal(report.ok, true, verify.stdout);
  assert.equal(report.counts.dag_runs, 3);
  assert.equal(report.lastRun.run_id, held.runId);
  assert.equal(report.attemptsFenced, 1);
  assert.equal(report.recoveryPoint.systemId, manifest.systemId);
  assert.deepEqual(readdirSync(tmpdir()).filter((f) => f.startsWith('keel-backup-verify-')), [], 'the scratch server is removed');
  const verifyText = await runKeel(['backup', 'verify', '--from', backupDir], {});
  expectCode(verifyText, 0);
  assert.match(verifyText.stdout, /restores and passes every check/);
  assert.match(verifyText.stdout, new RegExp(`last committed run: br_hold ${held.runId}`));

  const port2 = await freePort();
  const fresh = await standalone(restored, port2);
  await until('the fenced run to finish on its retry', async () => (await runState(fresh.db, held.id)) === 'success');
  const runs = (await fresh.db.query<{ run_id: string }>('SELECT run_id FROM dag_run ORDER BY id')).rows.map((r) => r.run_id);
  assert.deepEqual(runs, [...before.map((r) => r.runId), held.runId], 'the runs before the backup, not the one after');
  const attempts = (await fresh.db.query<{ try_number: number; state: string }>(
    "SELECT a.try_number, a.state FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id WHERE t.dag_run_id = $1 ORDER BY a.try_number", [held.id])).rows;
  assert.deepEqual(attempts, [{ try_number: 1, state: 'fenced' }, { try_number: 2, state: 'success' }]);
  assert.deepEqual(marksOf().map((l) => l.split(' ').slice(0, 2).join(' ')), ['try 1', 'try 2'], 'the held task started once before and once after the restore');
  const events = (await fresh.db.query<{ kind: string; details: Record<string, unknown> }>("SELECT kind, details FROM ha_event WHERE kind IN ('restored', 'component_fenced') ORDER BY id")).rows;
  assert.deepEqual(events.map((e) => e.kind), ['component_fenced', 'restored']);
  assert.equal(events[1]!.details.attemptsFenced, 1);
});
