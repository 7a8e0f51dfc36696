// A real PostgreSQL HA cluster on one machine, for tests and benchmarks: one etcd, three
// Patroni nodes of PostgreSQL 15, HAProxy (read-write and read-only ports) and PgBouncer
// (transaction pooling, in front of the read-write port), all on free loopback ports in a
// temporary folder. The configurations are the shipped ones under deploy/, rendered with
// this run's ports and paths. Faults are by PID; teardown stops only what it started.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../../src/free-port.js';
import { getCluster, unhealthyReason, type ClusterDoc, type Member } from './patroni-api.js';
import { childrenOf, isAlive, killPids, postmasterPid, spawnAsPostgres, waitGone } from './procs.js';
import { renderTemplate } from './template.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
export const TEMPLATES = {
  patroni: join(DEPLOY, 'patroni', 'patroni.yml'),
  haproxy: join(DEPLOY, 'haproxy', 'postgres.cfg'),
  pgbouncer: join(DEPLOY, 'pgbouncer', 'pgbouncer.ini'),
};

export const BINARIES = {
  patroni: '/usr/bin/patroni',
  patronictl: '/usr/bin/patronictl',
  etcd: '/usr/bin/etcd',
  haproxy: '/usr/sbin/haproxy',
  pgbouncer: '/usr/sbin/pgbouncer',
  pgBin: '/usr/lib/postgresql/15/bin',
};
const APT: Record<keyof typeof BINARIES, string> = {
  patroni: 'patroni', patronictl: 'patroni', etcd: 'etcd-server', haproxy: 'haproxy', pgbouncer: 'pgbouncer', pgBin: 'postgresql-15',
};

/** The Debian packages the cluster needs, or an error naming the ones missing. */
export function missingPackages(): string[] {
  const missing = new Set<string>();
  for (const [k, path] of Object.entries(BINARIES)) {
    if (!existsSync(k === 'pgBin' ? join(path, 'postgres') : path)) missing.add(APT[k as keyof typeof BINARIES]);
  }
  return [...missing];
}

export interface PgNode {
  name: string;
  pgPort: number;
  apiPort: number;
  dir: string;
  dataDir: string;
  config: string;
  patroni: ChildProcess | null;
}

export interface PgClusterUrls {
  /** Read-write through HAProxy: always the primary. */
  rw: string;
  /** Read-only through HAProxy: the replicas. */
  ro: string;
  /** PgBouncer (transaction pooling) → HAProxy read-write. */
  pgbouncer: string;
  /** Each node directly, by name. */
  nodes: Record<string, string>;
}

export interface PgClusterOptions {
  synchronous?: boolean;
  /** Keep the folder (logs, data) after stop. */
  keepDir?: boolean;
  log?: (msg: string) => void;
  bootTimeoutMs?: number;
}

export interface KilledPids { node: string; pids: number[]; at: Date }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function postgresIds(): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

/** Lines of each node's log quoted when the cluster does not come up. */
const BOOT_LOG_TAIL_LINES = 15;

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(unreadable: ${(err as Error).message})`;
  }
}

export class PgCluster {
  readonly nodes: PgNode[] = [];
  urls!: PgClusterUrls;
  /** HAProxy's stats page (CSV at `${stats}/;csv`). */
  statsUrl = '';
  synchronous: boolean;
  private etcd: ChildProcess | null = null;
  private etcdPorts = { client: 0, peer: 0 };
  private haproxy: ChildProcess | null = null;
  private pgbouncer: ChildProcess | null = null;
  private readonly password = randomBytes(12).toString('hex');
  private readonly log: (msg: string) => void;
  private readonly ids = process.getuid?.() === 0 ? postgresIds() : null;

  private constructor(readonly dir: string, private readonly opts: PgClusterOptions) {
    this.synchronous = opts.synchronous ?? false;
    this.log = opts.log ?? (() => {});
  }

  static async start(opts: PgClusterOptions = {}): Promise<PgCluster> {
    const missing = missingPackages();
    if (missing.length > 0) throw new Error(`the PostgreSQL HA cluster needs Debian packages that are missing: apt-get install -y ${missing.join(' ')} (.ci/run installs them)`);
    const c = new PgCluster(mkdtempSync(join(tmpdir(), 'keel-pg-cluster-')), opts);
    try {
      await c.boot();
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  private url(port: number, database = 'postgres'): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${port}/${database}`;
  }

  private async boot(): Promise<void> {
    const t0 = Date.now();
    this.etcdPorts = { client: await freePort(), peer: await freePort() };
    const etcdClient = this.etcdPorts.client;
    mkdirSync(join(this.dir, 'etcd'));
    await this.startEtcd();

    const template = readFileSync(TEMPLATES.patroni, 'utf8');
    for (const name of ['node1', 'node2', 'node3']) {
      const dir = join(this.dir, name);
      mkdirSync(dir);
      const node: PgNode = { name, pgPort: await freePort(), apiPort: await freePort(), dir, dataDir: join(dir, 'data'), config: join(dir, 'patroni.yml'), patroni: null };
      writeFileSync(node.config, renderTemplate(template, {
        scope: 'keel', name, host: '127.0.0.1', restapi_port: node.apiPort, pg_port: node.pgPort, etcd_hosts: `127.0.0.1:${etcdClient}`,
        synchronous_mode: this.synchronous, client_cidr: '127.0.0.1/32', data_dir: node.dataDir, bin_dir: BINARIES.pgBin,
        pgpass: join(dir, 'pgpass'), superuser_password: this.password, replication_password: this.password, rewind_password: this.password,
        socket_dir: dir,
      }));
      this.nodes.push(node);
    }
    if (this.ids) chownTree(this.dir, this.ids.uid, this.ids.gid);
    for (const n of this.nodes) this.startPatroni(n.name);

    const lb = { rw: await freePort(), ro: await freePort(), stats: await freePort() };
    const env: NodeJS.ProcessEnv = {
      ...process.env, KEEL_PG_LB_RW_BIND: `127.0.0.1:${lb.rw}`, KEEL_PG_LB_RO_BIND: `127.0.0.1:${lb.ro}`, KEEL_PG_LB_STATS_BIND: `127.0.0.1:${lb.stats}`,
    };
    this.nodes.forEach((n, i) => { env[`KEEL_PG_NODE${i + 1}`] = `127.0.0.1:${n.pgPort}`; env[`KEEL_PG_NODE${i + 1}_API`] = String(n.apiPort); });
    this.haproxy = spawn(BINARIES.haproxy, ['-db', '-f', TEMPLATES.haproxy], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    this.statsUrl = `http://127.0.0.1:${lb.stats}`;

    const bouncerPort = await freePort();
    const bdir = join(this.dir, 'pgbouncer');
    mkdirSync(bdir);
    writeFileSync(join(bdir, 'userlist.txt'), `"postgres" "${this.password}"\n`);
    writeFileSync(join(bdir, 'pgbouncer.ini'), renderTemplate(readFileSync(TEMPLATES.pgbouncer, 'utf8'), {
      upstream_host: '127.0.0.1', upstream_port: lb.rw, listen_addr: '127.0.0.1', listen_port: bouncerPort, socket_dir: bdir,
      auth_file: join(bdir, 'userlist.txt'), log_file: join(bdir, 'pgbouncer.log'), pid_file: join(bdir, 'pgbouncer.pid'),
    }));
    if (this.ids) chownTree(bdir, this.ids.uid, this.ids.gid);
    this.pgbouncer = spawnAsPostgres(BINARIES.pgbouncer, [join(bdir, 'pgbouncer.ini')], join(bdir, 'stdout.log'));

    this.urls = {
      rw: this.url(lb.rw), ro: this.url(lb.ro), pgbouncer: this.url(bouncerPort),
      nodes: Object.fromEntries(this.nodes.map((n) => [n.name, this.url(n.pgPort)])),
    };
    try {
      await this.waitHealthy(this.opts.bootTimeoutMs ?? 120_000);
    } catch (err) {
      // The folder is removed on the way out: what each node said goes with the error.
      throw new Error(`${(err as Error).message}\n${this.nodes.map((n) => `--- ${n.name} (PostgreSQL port ${n.pgPort}, API ${n.apiPort}), end of patroni.log:\n${tailOf(join(n.dir, 'patroni.log'), BOOT_LOG_TAIL_LINES)}`).join('\n')}`, { cause: err });
    }
    this.log(`pg-cluster: healthy in ${Date.now() - t0} ms (${this.dir})`);
  }

  private async until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await sleep(everyMs);
    }
    throw new Error(`pg-cluster: timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /** etcd's client URL (one member: stopping it loses quorum). */
  get etcdUrl(): string {
    return `http://127.0.0.1:${this.etcdPorts.client}`;
  }

  /** Starts etcd on its ports and data folder, and waits until it is healthy. */
  async startEtcd(): Promise<void> {
    const { client, peer } = this.etcdPorts;
    const etcdLog = openSync(join(this.dir, 'etcd', 'etcd.log'), 'a');
    this.etcd = spawn(BINARIES.etcd, [
      '--name', 'keel-etcd', '--data-dir', join(this.dir, 'etcd', 'data'),
      '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `keel-etcd=http://127.0.0.1:${peer}`, '--logger', 'zap',
    ], { stdio: ['ignore', etcdLog, etcdLog] });
    await this.until('etcd', async () => (await fetch(`${this.etcdUrl}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => null))?.ok === true, 20_000);
  }

  /** Kills etcd (-9): the DCS is gone, so Patroni can renew no leader key. */
  async stopEtcd(): Promise<void> {
    const pid = this.etcd?.pid;
    if (!pid) return;
    killPids([pid]);
    await waitGone([pid], 10_000);
    this.etcd = null;
  }

  /** Patroni's maintenance mode on or off (PATCH /config on any member): paused, it fails nothing over. */
  async setPaused(on: boolean): Promise<void> {
    for (const n of this.nodes) {
      const res = await fetch(`http://127.0.0.1:${n.apiPort}/config`, { method: 'PATCH', body: JSON.stringify({ pause: on }), signal: AbortSignal.timeout(3000) }).catch(() => null);
      if (res?.ok) {
        await this.until(`Patroni ${on ? 'paused' : 'resumed'}`, async () => ((await getCluster(n.apiPort)) as { pause?: boolean } | null)?.pause === (on ? true : undefined), 15_000);
        return;
      }
    }
    throw new Error(`pg-cluster: no member took the ${on ? 'pause' : 'resume'}`);
  }

  node(name: string): PgNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  startPatroni(name: string): void {
    const n = this.node(name);
    if (n.patroni && n.patroni.exitCode === null && n.patroni.signalCode === null) throw new Error(`${name}: Patroni already runs`);
    n.patroni = spawnAsPostgres(BINARIES.patroni, [n.config], join(n.dir, 'patroni.log'));
  }

  /** The cluster document from the first member that answers. */
  async clusterDoc(): Promise<ClusterDoc | null> {
    for (const n of this.nodes) {
      const doc = await getCluster(n.apiPort);
      if (doc) return doc;
    }
    return null;
  }

  async members(): Promise<Member[]> {
    return (await this.clusterDoc())?.members ?? [];
  }

  /** The current leader's name (waits up to timeoutMs for one). */
  async leader(timeoutMs = 30_000): Promise<string> {
    let name: string | undefined;
    await this.until('a leader', async () => {
      name = (await this.members()).find((m) => m.role === 'leader' && m.state === 'running')?.name;
      return name !== undefined;
    }, timeoutMs);
    return name!;
  }

  async timeline(): Promise<number> {
    const c = new pg.Client({ connectionString: this.urls.rw, connectionTimeoutMillis: 2000 });
    await c.connect();
    try {
      return Number((await c.query<{ t: number }>('SELECT timeline_id AS t FROM pg_control_checkpoint()')).rows[0]!.t);
    } finally {
      await c.end();
    }
  }

  private async queryOne<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T | undefined> {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 2000 });
    c.on('error', () => {});
    try {
      await c.connect();
      return (await c.query<T>(sql)).rows[0];
    } finally {
      await c.end().catch(() => {});
    }
  }

  /** HAProxy's view of a backend: server name → status (UP, DOWN, …). */
  async haproxyStatus(backend: 'postgres_rw' | 'postgres_ro'): Promise<Record<string, string>> {
    const text = await (await fetch(`${this.statsUrl}/;csv`, { signal: AbortSignal.timeout(1000) })).text();
    const out: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const f = line.split(',');
      if (f[0] === backend && f[1]?.startsWith('node')) out[f[1]] = f[17] ?? '';
    }
    return out;
  }

  /**
   * Full health: one running leader, every other member a replica streaming on its
   * timeline with lag 0 (a synchronous standby when synchronous mode is on), HAProxy's
   * read-write port on the leader alone, the read-only port on replicas, PgBouncer through.
   */
  async waitHealthy(timeoutMs = 90_000): Promise<void> {
    let why = 'not checked yet';
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      why = await this.healthProblem().catch((err: Error) => err.message);
      if (!why) return;
      await sleep(250);
    }
    throw new Error(`pg-cluster: not healthy after ${timeoutMs} ms: ${why}`);
  }

  private async healthProblem(): Promise<string> {
    const doc = await this.clusterDoc();
    const problem = unhealthyReason(doc, this.nodes.length, this.synchronous);
    if (problem) return problem;
    const leader = doc!.members.find((m) => m.role === 'leader')!.name;
    const streaming = await this.queryOne<{ n: number }>(this.urls.nodes[leader]!, `SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'`);
    if (streaming?.n !== this.nodes.length - 1) return `${streaming?.n} replicas streaming from ${leader}`;
    const rw = await this.haproxyStatus('postgres_rw');
    const up = Object.entries(rw).filter(([, s]) => s === 'UP').map(([n]) => n);
    if (up.length !== 1 || up[0] !== leader) return `HAProxy read-write is UP on [${up.join(', ')}], leader is ${leader}`;
    const ro = await this.haproxyStatus('postgres_ro');
    if (Object.values(ro).filter((s) => s === 'UP').length !== this.nodes.length - 1) return `HAProxy read-only: ${JSON.stringify(ro)}`;
    if ((await this.queryOne<{ r: boolean }>(this.urls.rw, 'SELECT pg_is_in_recovery() AS r'))?.r !== false) return 'read-write port is in recovery';
    if ((await this.queryOne<{ r: boolean }>(this.urls.ro, 'SELECT pg_is_in_recovery() AS r'))?.r !== true) return 'read-only port is not in recovery';
    if ((await this.queryOne<{ r: boolean }>(this.urls.pgbouncer, 'SELECT pg_is_in_recovery() AS r'))?.r !== false) return 'PgBouncer does not reach the primary';
    return '';
  }

  /** patronictl, asynchronously: a probe or a workload in this process must go on meanwhile. */
  private async patronictl(args: string[]): Promise<string> {
    const cfg = this.nodes[0]!.config;
    const { stdout } = await promisify(execFile)(BINARIES.patronictl, ['-c', cfg, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` } });
    return stdout;
  }

  /** Planned switchover with patronictl to a replica (the synchronous standby when synchronous mode is on). */
  async switchover(candidate?: string): Promise<{ from: string; to: string; at: Date }> {
    const members = await this.members();
    const from = members.find((m) => m.role === 'leader')!.name;
    const to = candidate ?? (members.find((m) => m.role === 'sync_standby') ?? members.find((m) => m.role === 'replica'))!.name;
    const at = new Date();
    await this.patronictl(['switchover', '--leader', from, '--candidate', to, '--force']);
    this.log(`pg-cluster: switchover ${from} → ${to}`);
    return { from, to, at };
  }

  /** kill -9 of a node's postmaster alone (Patroni fails over: primary_start_timeout 0). */
  killPostmaster(name: string): KilledPids {
    const pid = postmasterPid(this.node(name).dataDir);
    if (!pid) throw new Error(`${name}: no postmaster runs`);
    const at = new Date();
    killPids([pid]);
    this.log(`pg-cluster: kill -9 postmaster ${pid} of ${name}`);
    return { node: name, pids: [pid], at };
  }

  /** kill -9 of a node's Patroni alone: its postmaster keeps accepting direct connections (the split-brain window). */
  killPatroni(name: string): KilledPids {
    const n = this.node(name);
    const pid = n.patroni?.pid;
    if (!pid || !isAlive(pid)) throw new Error(`${name}: Patroni does not run`);
    const pids = [pid, ...childrenOf(pid).filter((p) => p !== postmasterPid(n.dataDir))];
    const at = new Date();
    killPids(pids);
    this.log(`pg-cluster: kill -9 Patroni ${pid} of ${name}`);
    return { node: name, pids, at };
  }

  /** A whole node crash: Patroni, the postmaster and every child, each by PID, at once. */
  killNode(name: string): KilledPids {
    const n = this.node(name);
    const patroni = n.patroni?.pid && isAlive(n.patroni.pid) ? [n.patroni.pid, ...childrenOf(n.patroni.pid)] : [];
    const pm = postmasterPid(n.dataDir);
    const pids = [...new Set([...patroni, ...(pm ? [pm, ...childrenOf(pm)] : [])])];
    const at = new Date();
    killPids(pids);
    this.log(`pg-cluster: kill -9 node ${name} (${pids.length} processes)`);
    return { node: name, pids, at };
  }

  /** Brings a killed node back: its old postmaster (if any) is stopped by PID, then Patroni restarts and rejoins (pg_rewind). */
  async restartNode(name: string): Promise<void> {
    const n = this.node(name);
    const leftovers = [...(n.patroni?.pid && isAlive(n.patroni.pid) ? [n.patroni.pid] : [])];
    const pm = postmasterPid(n.dataDir);
    if (pm) leftovers.push(pm, ...childrenOf(pm));
    killPids(leftovers);
    if (!(await waitGone(leftovers, 10_000))) throw new Error(`${name}: processes ${leftovers.join(',')} did not exit`);
    n.patroni = null;
    this.startPatroni(name);
  }

  /** Switches Patroni's synchronous_mode and waits until the cluster shows it. */
  async setSynchronous(on: boolean, timeoutMs = 60_000): Promise<void> {
    await this.patronictl(['edit-config', '--force', '--set', `synchronous_mode=${on}`]);
    this.synchronous = on;
    await this.waitHealthy(timeoutMs);
    this.log(`pg-cluster: synchronous_mode ${on}`);
  }

  /** Stops everything this harness started, by PID: Patroni (which stops PostgreSQL), then any postmaster left in its data folders, PgBouncer, HAProxy, etcd. */
  async stop(): Promise<void> {
    const patronis = this.nodes.map((n) => n.patroni?.pid).filter((p): p is number => p !== undefined && isAlive(p));
    killPids(patronis, 'SIGTERM');
    await waitGone(patronis, 20_000);
    const rest: number[] = [...patronis];
    for (const n of this.nodes) {
      const pm = postmasterPid(n.dataDir);
      if (pm) rest.push(pm, ...childrenOf(pm));
    }
    for (const p of [this.pgbouncer, this.haproxy, this.etcd]) if (p?.pid && isAlive(p.pid)) rest.push(p.pid);
    killPids(rest, 'SIGKILL');
    const gone = await waitGone(rest, 15_000);
    if (!gone) this.log(`pg-cluster: processes still alive after stop: ${rest.filter(isAlive).join(', ')}`);
    if (!this.opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export const startPgCluster = (opts: PgClusterOptions = {}) => PgCluster.start(opts);
