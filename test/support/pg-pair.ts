// A real PostgreSQL primary and a streaming standby made from it with pg_basebackup
// (Debian's PostgreSQL 15 binaries), on loopback ports, for tests of failover and
// split-brain that need no Patroni: promoting the standby leaves the old primary running
// and writable on the older timeline, exactly the window a killed Patroni leaves. Also a
// TCP proxy that can lose the answer to a COMMIT. Servers run as "postgres" when root.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { Database } from '../../src/db/database.js';
import { freePort, requireTool } from './tools.js';

const BIN = '/usr/lib/postgresql/15/bin';

function ids(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('the "postgres" user is missing: install postgresql-15 (`apt-get install -y postgresql-15`)');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(join(BIN, cmd), args, { ...ids(), encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
}

export interface PgNode {
  port: number;
  dir: string;
  url(db?: string): string;
}

export interface PgPair {
  primary: PgNode;
  standby: PgNode;
  /** pg_ctl promote on the standby (waits until it is writable). */
  promote(): void;
  stop(): Promise<void>;
}

const serverOptions = (port: number, dir: string) =>
  `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c fsync=off -c wal_level=replica -c max_wal_senders=5 -c hot_standby=on -c max_connections=100`;

export async function startPair(): Promise<PgPair> {
  requireTool(join(BIN, 'pg_basebackup'), 'postgresql-15');
  const root = mkdtempSync(join(tmpdir(), 'keel-pg-pair-'));
  const owner = ids();
  if (owner) chownSync(root, owner.uid, owner.gid);
  const node = (name: string, port: number): PgNode => ({ port, dir: join(root, name), url: (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}` });
  const primary = node('primary', await freePort());
  const standby = node('standby', await freePort());
  run('initdb', ['-D', primary.dir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C']);
  run('pg_ctl', ['-D', primary.dir, '-l', join(root, 'primary.log'), '-w', '-o', serverOptions(primary.port, root), 'start']);
  run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', standby.dir, '-R', '-X', 'stream']);
  run('pg_ctl', ['-D', standby.dir, '-l', join(root, 'standby.log'), '-w', '-o', serverOptions(standby.port, root), 'start']);
  return {
    primary, standby,
    promote: () => run('pg_ctl', ['-D', standby.dir, '-w', 'promote']),
    stop: async () => {
      for (const n of [standby, primary]) {
        const r = spawnSync(join(BIN, 'pg_ctl'), ['-D', n.dir, '-m', 'immediate', '-w', 'stop'], { ...owner, encoding: 'utf8' });
        void r;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A loopback TCP proxy to `port`. Armed with loseNextCommitAnswer(), it forwards the next
 * COMMIT a client sends (simple-query message 'Q' holding COMMIT), waits for the server's
 * answer, and then cuts the client off without passing the answer on: the transaction
 * committed, the client cannot know. loseNextAnswerTo(text) does the same to the next
 * message holding `text` (a statement sent with the extended protocol, autocommitted).
 * stallNextAnswerTo(text) forwards that message and then passes nothing more back on its
 * connection, which stays open: the statement hangs, as one does in PgBouncer's queue while
 * it has no server to send it to.
 */
export async function startProxy(port: number): Promise<{ port: number; loseNextCommitAnswer(): void; loseNextAnswerTo(text: string): void; stallNextAnswerTo(text: string): void; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let armed = false;
  let armedText: string | null = null;
  let stallText: string | null = null;
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let cutAfterAnswer = false;
    let stalled = false;
    client.on('data', (chunk: Buffer) => {
      if (armed && chunk[0] === 0x51 && chunk.subarray(5).toString('utf8').trim().replace(/\0/g, '').toUpperCase() === 'COMMIT') {
        armed = false;
        cutAfterAnswer = true;
      }
      if (armedText !== null && chunk.toString('utf8').includes(armedText)) {
        armedText = null;
        cutAfterAnswer = true;
      }
      if (stallText !== null && chunk.toString('utf8').includes(stallText)) {
        stallText = null;
        stalled = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (stalled) return;
      if (cutAfterAnswer) {
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  const listenPort = await freePort();
  await new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', r));
  return {
    port: listenPort,
    loseNextCommitAnswer: () => { armed = true; },
    loseNextAnswerTo: (text: string) => { armedText = text; },
    stallNextAnswerTo: (text: string) => { stallText = text; },
    stop: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/** Creates database "keel" on the pair's primary, migrates it, and returns a pool on it (the standby replays it). */
export async function migratedKeelDatabase(pair: PgPair, size = 3): Promise<Database> {
  const admin = new pg.Client({ connectionString: pair.primary.url() });
  await admin.connect();
  try {
    await admin.query('CREATE DATABASE keel');
  } finally {
    await admin.end();
  }
  const db = new Database(pair.primary.url('keel'), { size, applicationName: 'keel-test' });
  await migrate(db);
  return db;
}
