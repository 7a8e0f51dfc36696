// The throughput, chain and pickup kinds: one scenario each on Keel's real roles, on a
// fresh migrated database of the bench's own durable PostgreSQL (or KEEL_BENCH_DATABASE_URL,
// an admin URL: the bench creates and drops databases), with a calibration of the
// database's floor (round trip, durable commit) first. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { loadOptions } from '../../src/config/load.js';
import { OPTION_SPECS, type OptionName } from '../../src/config/options.js';
import { REPO_ROOT } from '../lib/cluster.js';
import type { BenchConfig, ScenarioContext } from '../lib/harness.js';
import { intFlag, type FlagSpec, type FlagValues, type KindContext, type KindOutcome } from '../lib/kind.js';
import { startBenchServer } from '../lib/postgres.js';
import { renderReport, type BenchReport, type ScenarioOutcome } from '../lib/report.js';
import { round } from '../lib/stats.js';
import { calibrate, type Calibration } from '../scenarios/calibrate.js';
import { chain, type ChainParams } from '../scenarios/chain.js';
import { pickup, type PickupParams } from '../scenarios/pickup.js';
import { throughput, type ThroughputParams } from '../scenarios/throughput.js';

export type SuiteKind = 'throughput' | 'chain' | 'pickup';

interface Profile {
  throughput: ThroughputParams;
  chain: ChainParams;
  pickup: PickupParams;
  calibrationSamples: number;
}

const PROFILES: Record<'full' | 'quick', Profile> = {
  full: {
    throughput: { runs: 100, timeoutMs: 150_000 },
    chain: { runs: 5, runTimeoutMs: 60_000, idleBetweenMs: 300 },
    pickup: { triggers: 50, warmup: 3, runTimeoutMs: 20_000, idleMs: [150, 350] },
    calibrationSamples: 300,
  },
  quick: {
    throughput: { runs: 10, timeoutMs: 60_000 },
    chain: { runs: 2, runTimeoutMs: 60_000, idleBetweenMs: 300 },
    pickup: { triggers: 10, warmup: 2, runTimeoutMs: 20_000, idleMs: [150, 350] },
    calibrationSamples: 100,
  },
};

/** The worker concurrency used unless --concurrency says otherwise; see bench/README.md ("Configuration"). */
const DEFAULT_CONCURRENCY = 8;

/** Flags every suite kind takes; the size flag is each kind's own. */
export const SUITE_FLAGS: Record<string, FlagSpec> = {
  quick: { type: 'boolean', about: 'small sizes, for trying a change' },
  mode: { type: 'string', about: 'processes (default: each role its own process) or inprocess' },
  concurrency: { type: 'string', about: `worker concurrency (default ${DEFAULT_CONCURRENCY})` },
  workers: { type: 'string', about: 'worker processes (default 1)' },
  schedulers: { type: 'string', about: 'scheduler processes (default 1)' },
  'log-level': { type: 'string', about: 'Keel log level of the roles (default info)' },
  set: { type: 'string', multiple: true, about: 'any Keel option, --set=<option>=<value>; repeatable' },
  'keep-logs': { type: 'boolean', about: 'keep the role logs (their folder is printed)' },
  'no-pgss': { type: 'boolean', about: 'skip pg_stat_statements (no restart of the server, no statement times)' },
};

function gitInfo(): BenchReport['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

function keelSettings(flags: FlagValues): BenchConfig['options'] {
  const set: Record<string, string> = {};
  for (const s of (flags.set as string[] | undefined) ?? []) {
    const [name, value] = s.split(/=(.*)/s) as [string, string?];
    if (!(name in OPTION_SPECS) || value === undefined) throw new Error(`--set=<option>=<value> with a Keel option name (${Object.keys(OPTION_SPECS).join(', ')})`);
    set[name] = value;
  }
  return { workerConcurrency: intFlag(flags, 'concurrency', DEFAULT_CONCURRENCY), logLevel: (flags['log-level'] as string | undefined) ?? 'info', ...(set as Partial<Record<OptionName, string>>) };
}

export async function runSuiteKind(kind: SuiteKind, flags: FlagValues, ctx: KindContext): Promise<KindOutcome> {
  const mode = (flags.mode as string | undefined) ?? 'processes';
  if (mode !== 'processes' && mode !== 'inprocess') throw new Error('--mode: processes or inprocess');
  const profileName = flags.quick ? 'quick' : 'full';
  const base = PROFILES[profileName];
  const profile: Profile = {
    ...base,
    throughput: { ...base.throughput, runs: intFlag(flags, 'runs', base.throughput.runs) },
    chain: { ...base.chain, runs: intFlag(flags, 'runs', base.chain.runs) },
    pickup: { ...base.pickup, triggers: intFlag(flags, 'pickups', base.pickup.triggers) },
  };
  const options = keelSettings(flags);
  // Validate once, as Keel would, and keep the effective values for the report.
  const effective = loadOptions({ env: {}, noConfigFile: true, overrides: { ...options, databaseUrl: 'postgres://x@127.0.0.1/x', dagsFolder: 'bench/dags' } });
  const keelOptions = Object.fromEntries(Object.entries(effective).filter(([k]) => !['databaseUrl', 'dataDir', 'dagsFolder', 'embeddedPort'].includes(k)));
  const started = new Date();
  const loadAtStart = loadavg().map((v) => round(v));

  const externalUrl = process.env.KEEL_BENCH_DATABASE_URL || undefined;
  ctx.log(externalUrl ? 'using KEEL_BENCH_DATABASE_URL' : 'starting embedded PostgreSQL (durable: fsync on, synchronous_commit on)');
  const server = await startBenchServer({ externalUrl, pgss: !flags['no-pgss'], log: ctx.log });
  ctx.cleanup(() => server.stop());
  ctx.log(`PostgreSQL ${server.settings.server_version ?? '?'}; fsync=${server.settings.fsync}, synchronous_commit=${server.settings.synchronous_commit}; pg_stat_statements ${server.pgss ? 'on' : 'off'}`);

  const config: BenchConfig = { mode, schedulers: intFlag(flags, 'schedulers', 1), workers: intFlag(flags, 'workers', 1), options, keepLogs: Boolean(flags['keep-logs']) };
  const sctx: ScenarioContext = { server, config, log: ctx.log };

  ctx.log('calibrating: round trip and durable commit');
  let calibration: Calibration | null = null;
  try {
    calibration = await calibrate(server.adminUrl, profile.calibrationSamples);
  } catch (err) {
    ctx.log(`calibration failed: ${(err as Error).message}`);
  }

  const params = profile[kind];
  const t = performance.now();
  let outcome: ScenarioOutcome<unknown>;
  try {
    const { result, resources } = await (kind === 'throughput' ? throughput(sctx, profile.throughput) : kind === 'chain' ? chain(sctx, profile.chain) : pickup(sctx, profile.pickup));
    ctx.log(`[${kind}] done in ${Math.round((performance.now() - t) / 1000)} s`);
    outcome = { ok: true, params, result, resources };
  } catch (err) {
    ctx.log(`[${kind}] FAILED: ${(err as Error).stack ?? String(err)}`);
    outcome = { ok: false, params, error: (err as Error).message };
  }

  const finished = new Date();
  const report: BenchReport = {
    schema: 1,
    profile: profileName,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSec: round((finished.getTime() - started.getTime()) / 1000, 1),
    git: gitInfo(),
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: round(totalmem() / 2 ** 30, 1), node: process.version, kernel: release(),
      loadavgAtStart: loadAtStart, loadavgAtEnd: loadavg().map((v) => round(v)),
    },
    database: { kind: server.kind, durable: server.settings.fsync === 'on' && server.settings.synchronous_commit === 'on', pgStatStatements: server.pgss, settings: server.settings },
    config: { mode, schedulers: config.schedulers, workers: config.workers, workerConcurrency: options.workerConcurrency as number, keelOptions },
    calibration,
    scenarios: { [kind]: outcome },
  };
  console.log(renderReport(report));
  return { ok: outcome.ok, result: report };
}
