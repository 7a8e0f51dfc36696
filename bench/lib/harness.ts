// One scenario's life: a fresh migrated database, Keel's roles on it, the DAGs stored, a
// measured window (CPU per process tree, pg_stat_statements, WAL flushes), then teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OptionName } from '../../src/config/options.js';
import type { Database } from '../../src/db/database.js';
import { startCluster, type Cluster, type Mode, REPO_ROOT } from './cluster.js';
import { createScenarioDatabase, pgssReset, pgssTop, walDelta, walSnapshot, type BenchServer, type StatementStat, type WalSnapshot } from './postgres.js';
import { machineBusySeconds, treeCpuSeconds } from './procstat.js';
import { round, waitFor } from './stats.js';

export interface BenchConfig {
  mode: Mode;
  schedulers: number;
  workers: number;
  /** Keel options given to every role. */
  options: Partial<Record<OptionName, string | number>>;
  keepLogs: boolean;
}

export interface ScenarioContext {
  server: BenchServer;
  config: BenchConfig;
  log: (m: string) => void;
}

export interface Resources {
  wallSec: number;
  /** CPU seconds per process tree during the measured window; `postgres` is the whole server,
   *  `worker` includes its runner processes and `worker:runners` is their part of it. */
  cpuSec: Record<string, number>;
  /** CPU seconds of all of them divided by wall time: 2.0 means both cores busy. */
  coresBusy: number;
  /** Busy CPU seconds of the machine not in the trees above: other people's work on the same cores. */
  otherCpuSec: number | null;
  database: { totalExecMs: number; statements: number; top: StatementStat[] } | null;
  wal: WalSnapshot | null;
}

export interface Scenario {
  db: Database;
  url: string;
  cluster: Cluster;
  /** Starts the measured window. */
  begin(): Promise<void>;
  /** Ends it; the WAL part is completed after the roles stop. */
  end(): Promise<void>;
}

interface Mark {
  at: number;
  cpu: Record<string, number>;
  machine: number | null;
}

export async function withScenario<T>(ctx: ScenarioContext, name: string, dagsSubfolder: string, dagIds: string[], fn: (s: Scenario) => Promise<T>): Promise<{ result: T; resources: Resources | null }> {
  const logDir = mkdtempSync(join(tmpdir(), `keel-bench-${name}-`));
  ctx.log(`[${name}] fresh database, starting roles (${ctx.config.mode})`);
  const sdb = await createScenarioDatabase(ctx.server.adminUrl, name);
  let cluster: Cluster | null = null;
  let failed = false;
  try {
    cluster = await startCluster({
      mode: ctx.config.mode, databaseUrl: sdb.url, dagsFolder: join(REPO_ROOT, 'bench', 'dags', dagsSubfolder), logDir,
      schedulers: ctx.config.schedulers, workers: ctx.config.workers, options: ctx.config.options, startTimeoutMs: 60_000, stopTimeoutMs: 20_000,
    });
    await waitFor(`DAGs ${dagIds.join(', ')} to be stored`, async () => {
      const r = await sdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dag WHERE dag_id = ANY($1) AND is_active', [dagIds]);
      return r.rows[0]!.n === dagIds.length;
    }, 60_000, 100);

    const c = cluster;
    let begin: Mark | null = null;
    let end: Mark | null = null;
    let walBegin: WalSnapshot | null = null;
    let database: Resources['database'] = null;
    const mark = (): Mark => {
      const cpu = c.cpu();
      if (ctx.server.postmasterPid) {
        const pgCpu = treeCpuSeconds([ctx.server.postmasterPid]).get(ctx.server.postmasterPid);
        if (pgCpu !== undefined) cpu.postgres = pgCpu.total;
      }
      const own = process.cpuUsage();
      cpu[ctx.config.mode === 'inprocess' ? 'bench+roles' : 'bench'] = (own.user + own.system) / 1e6;
      return { at: performance.now(), cpu, machine: machineBusySeconds() };
    };
    const scenario: Scenario = {
      db: sdb.db, url: sdb.url, cluster: c,
      begin: async () => {
        if (ctx.server.pgss) await pgssReset(ctx.server.adminUrl, sdb.name);
        walBegin = await walSnapshot(ctx.server.adminUrl);
        begin = mark();
      },
      end: async () => {
        end = mark();
        if (ctx.server.pgss) {
          const top = await pgssTop(ctx.server.adminUrl, sdb.name);
          database = { totalExecMs: top.totalMs, statements: top.calls, top: top.top };
        }
      },
    };
    const result = await fn(scenario);
    await cluster.stop();
    cluster = null;
    let resources: Resources | null = null;
    const b = begin as Mark | null;
    const e = end as Mark | null;
    if (b && e) {
      const wallSec = (e.at - b.at) / 1000;
      const cpuSec: Record<string, number> = {};
      for (const [k, v] of Object.entries(e.cpu)) if (b.cpu[k] !== undefined) cpuSec[k] = round(v - b.cpu[k]!);
      const total = Object.entries(cpuSec).filter(([k]) => !k.includes(':')).reduce((x, [, y]) => x + y, 0);
      resources = {
        wallSec: round(wallSec), cpuSec, coresBusy: round(total / Math.max(wallSec, 1e-9)),
        otherCpuSec: b.machine !== null && e.machine !== null ? round(Math.max(0, e.machine - b.machine - total)) : null,
        database,
        wal: walDelta(walBegin, await walSnapshot(ctx.server.adminUrl)),
      };
    }
    return { result, resources };
  } catch (err) {
    failed = true;
    if (cluster) ctx.log(`[${name}] failed; last log lines:\n${cluster.logTail(8)}`);
    throw err;
  } finally {
    if (cluster) await cluster.stop();
    await sdb.drop().catch((err) => ctx.log(`[${name}] could not drop ${sdb.name}: ${(err as Error).message}`));
    if (ctx.config.keepLogs || failed) ctx.log(`[${name}] role logs kept in ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
}
