// The `keel` command on the embedded database, as a user runs it from two terminals: a real
// `keel standalone` in a fresh data folder, and short commands that are given only that
// folder (KEEL_DATA_DIR). They find the running server on its real port (from its
// postmaster.pid), never create an empty database, and a standalone started after one
// that was killed adopts its orphaned PostgreSQL and stops it. Also: --version, one log
// line per backoff step for an unreachable database, a refused login named as such.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectCode, runKeel } from '../support/cli.js';
import { isRunning, killAll, spawnKeel, type KeelProcess } from '../support/processes.js';
import { freePort } from '../../src/free-port.js';
import { KEEL_VERSION } from '../../src/version.js';

const DAGS = fileURLToPath(new URL('../fixtures/cli/', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'keel-cli-embedded-'));
chmodSync(dataDir, 0o777); // as root the server runs as the postgres user, who must enter it
const started: KeelProcess[] = [];

after(async () => {
  await killAll(started);
  const pid = postmasterPid();
  if (pid && isRunning(pid)) process.kill(pid, 'SIGINT');
  while (postmasterPid() && isRunning(postmasterPid()!)) await sleep(100);
  rmSync(dataDir, { recursive: true, force: true });
});

function postmasterPid(): number | null {
  const file = join(dataDir, 'pgdata', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : null;
}


async function until(what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function standalone(port: number): Promise<KeelProcess> {
  const p = spawnKeel(['standalone'], { KEEL_DATA_DIR: dataDir, KEEL_EMBEDDED_PORT: String(port), KEEL_API_PORT: '0', KEEL_DAGS_FOLDER: DAGS });
  started.push(p);
  await until('keel standalone to run', () => p.output().includes('keel standalone running') || p.child.exitCode !== null);
  assert.ok(p.output().includes('keel standalone running'), p.output());
  return p;
}

test('--version prints the version of package.json', async () => {
  const r = await runKeel(['--version'], {});
  expectCode(r, 0);
  assert.equal(r.stdout.trim(), KEEL_VERSION);
});

test('a short command on a folder without a database creates none and names the folder', async () => {
  const r = await runKeel(['dags', 'list'], { KEEL_DATA_DIR: dataDir });
  expectCode(r, 2);
  assert.match(r.stderr, new RegExp(`no Keel database in ${join(dataDir, 'pgdata')}`));
  assert.match(r.stderr, /keel db init/);
  assert.equal(existsSync(join(dataDir, 'pgdata')), false, 'no initdb');
});

test('a second terminal with only KEEL_DATA_DIR reaches the running server; every health check passes; an orphan is adopted and stopped', async () => {
  const port = await freePort();
  const first = await standalone(port);
  // Not the configured port: the real one comes from the server's postmaster.pid.
  const onlyFolder = { KEEL_DATA_DIR: dataDir };
  const health = await runKeel(['health'], onlyFolder);
  expectCode(health, 0);
  for (const role of ['scheduler', 'worker', 'dag-processor', 'triggerer', 'api']) assert.match(health.stdout, new RegExp(`1 healthy ${role}\\(s\\): standalone`));
  for (const role of ['triggerer', 'api']) expectCode(await runKeel(['health', '--role', role], onlyFolder), 0);

  const refused = await runKeel(['dags', 'list'], { KEEL_DATABASE_URL: `postgres://keel:wrong-password@127.0.0.1:${port}/postgres`, KEEL_DB_CONNECT_RETRY_SEC: '5' });
  expectCode(refused, 1);
  assert.match(refused.stderr, /refused the login: password authentication failed/);
  assert.doesNotMatch(refused.stderr, /cannot reach/);

  first.child.kill('SIGKILL');
  await first.exited;
  const orphan = postmasterPid()!;
  assert.ok(isRunning(orphan), 'the killed standalone left its PostgreSQL running');
  const second = await standalone(port);
  assert.match(second.output(), new RegExp(`pid ${orphan}.*adopting it: it stops when this process stops`));
  second.child.kill('SIGINT');
  second.child.kill('SIGINT'); // the second Ctrl-C skips the drain, never the server's stop
  await second.exited;
  await until('the adopted PostgreSQL to stop', () => !isRunning(orphan), 30_000);
});

test('an unreachable database: one warning per backoff step, not one per retry', async () => {
  const r = await runKeel(['dags', 'list'], { KEEL_DATABASE_URL: `postgres://u:p@127.0.0.1:${await freePort()}/x`, KEEL_DB_CONNECT_RETRY_SEC: '8' });
  expectCode(r, 1);
  const warnings = r.stdout.split('\n').filter((l) => l.includes('"level":40'));
  // Retries come every second at most (about 12 in 8 s): 4 growing steps, then one every 5 s.
  assert.ok(warnings.length >= 3 && warnings.length <= 7, `${warnings.length} warnings:\n${warnings.join('\n')}`);
  assert.match(r.stderr, /cannot reach the database/);
});
