// Issue 11, finding 2: the embedded PostgreSQL had the fixed superuser password keel/keel on
// 127.0.0.1, so any local account could log in as superuser and run OS commands. Now its
// password is random, made at the first start, kept owner-only in <dataDir>/postgres-password;
// a data folder made with the fixed password is migrated at its next start; the CLI in a
// second terminal still finds the running server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';
import { freePort } from '../../src/free-port.js';
import { KEEL_BIN } from '../support/processes.js';

const FIXED = { user: 'keel', password: 'keel' };

async function logIn(port: number, password: string): Promise<string> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: FIXED.user, password, database: 'postgres' });
  try {
    await c.connect();
    await c.end();
    return 'logged in';
  } catch (err) {
    await c.end().catch(() => {});
    return (err as { code?: string }).code ?? (err as Error).message;
  }
}

async function withServer(fn: (s: EmbeddedServer, dataDir: string, port: number) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-sec-pg-'));
  const port = await freePort();
  const server = await startEmbedded({ dataDir, port, durable: false });
  try {
    await fn(server, dataDir, port);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('the embedded server refuses the former fixed password; its random password is owner-only, and TCP needs it', async () => {
  await withServer(async (server, dataDir, port) => {
    assert.equal(await logIn(port, FIXED.password), '28P01', 'keel/keel is an invalid password');
    const file = join(dataDir, 'postgres-password');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the password file is readable by its owner only');
    const password = readFileSync(file, 'utf8').trim();
    assert.ok(password.length >= 32, 'the password is long and random');
    assert.equal(new URL(server.url).password, password, 'Keel connects with it');
    assert.equal(await logIn(port, password), 'logged in');
    const hba = readFileSync(join(dataDir, 'pgdata', 'pg_hba.conf'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.deepEqual(hba, ['host all all 127.0.0.1/32 scram-sha-256', 'host replication keel 127.0.0.1/32 scram-sha-256'], 'no trust line, no Unix socket: TCP from loopback with SCRAM only (replication for the superuser, keel backup)');
    if (userInfo().uid === 0) {
      // As root the server runs as "postgres"; another account, as in the report, cannot read the password.
      const other = spawnSync('cat', [file], { uid: 65534, gid: 65534, encoding: 'utf8' });
      assert.notEqual(other.status, 0, 'user nobody cannot read the password file');
      assert.doesNotMatch(other.stdout, new RegExp(password));
    }
  });
});

test('a data folder made with the fixed password is migrated at its next start: a random password replaces it', async () => {
  await withServer(async (server, dataDir, port) => {
    // What an older Keel left behind: the superuser's password is keel, and no password file.
    const c = new pg.Client(server.url);
    await c.connect();
    await c.query(`ALTER ROLE keel PASSWORD 'keel'`);
    await c.end();
    await server.stop();
    rmSync(join(dataDir, 'postgres-password'));
    assert.equal(await logIn(port, FIXED.password), 'ECONNREFUSED', 'the server is stopped');

    const again = await startEmbedded({ dataDir, port, durable: false });
    try {
      assert.equal(await logIn(port, FIXED.password), '28P01', 'after the migration keel/keel is refused');
      const password = readFileSync(join(dataDir, 'postgres-password'), 'utf8').trim();
      assert.equal(statSync(join(dataDir, 'postgres-password')).mode & 0o777, 0o600);
      assert.equal(await logIn(port, password), 'logged in');
      const q = new pg.Client(again.url);
      await q.connect();
      assert.equal((await q.query('SELECT 1 AS one')).rows[0].one, 1, 'and Keel uses the new password');
      await q.end();
    } finally {
      await again.stop();
    }
  });
});

test('the CLI in a second terminal finds the running embedded server through the data folder', async () => {
  await withServer(async (_server, dataDir, port) => {
    const dags = join(dataDir, 'dags');
    mkdirSync(dags);
    const env: NodeJS.ProcessEnv = { ...process.env, KEEL_DATA_DIR: dataDir, KEEL_EMBEDDED_PORT: String(port), KEEL_DAGS_FOLDER: dags, KEEL_DB_CONNECT_RETRY_SEC: '5' };
    delete env.KEEL_DATABASE_URL;
    const cli = spawn(process.execPath, [KEEL_BIN, 'dags', 'list', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cli.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    cli.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const code = await new Promise<number | null>((resolve) => cli.on('exit', resolve));
    assert.equal(code, 0, `keel dags list succeeds: ${out}`);
    assert.equal(await logIn(port, readFileSync(join(dataDir, 'postgres-password'), 'utf8').trim()), 'logged in', 'and left it running');
  });
});
