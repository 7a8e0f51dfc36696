// `npm run bench`: Keel's benchmark suite. See bench/README.md.
//
//   npm run bench                       full profile (about 1.5–3 minutes)
//   npm run bench -- --profile=quick    a small run for trying changes (under a minute)
//   npm run bench -- --only=chain,pickup --concurrency=16 --mode=inprocess --set=schedulerBatchSize=500
//
// Starts an embedded PostgreSQL with durability on (or uses KEEL_BENCH_DATABASE_URL, an
// admin URL: the bench creates and drops databases), runs each scenario on a fresh migrated
// database against Keel's real roles, prints a table and writes bench/results/*.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadOptions } from '../src/config/load.js';
import { OPTION_SPECS, type OptionName } from '../src/config/options.js';
import { REPO_ROOT, type Mode } from './lib/cluster.js';
import type { BenchConfig, Resources, ScenarioContext } from './lib/harness.js';
import { startBenchServer, type BenchServer } from './lib/postgres.js';
import { renderReport } from './lib/report.js';
import { round } from './lib/stats.js';
import { calibrate, type Calibration } from './scenarios/calibrate.js';
import { chain, type ChainParams, type ChainResult } from './scenarios/chain.js';
import { pickup, type PickupParams, type PickupResult } from './scenarios/pickup.js';
import { throughput, type ThroughputParams, type ThroughputResult } from './scenarios/throughput.js';

const SCENARIOS = ['throughput', 'chain', 'pickup'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

interface Profile {
  throughput: ThroughputParams;
  chain: ChainParams;
  pickup: PickupParams;
  calibrationSamples: number;
}

const PROFILES: Record<string, Profile> = {
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

/** The worker concurrency used unless --concurrency says otherwise; see README ("Configuration"). */
const DEFAULT_CONCURRENCY = 8;
/** Whole-bench limit: past it, the bench cleans up and exits non-zero. */
const WATCHDOG_MS = 9 * 60_000;

export interface ScenarioOutcome<R> {
  ok: boolean;
  error?: string;
  params: unknown;
  result?: R;
  resources?: Resources | null;
}

export interface BenchReport {
  schema: 1;
  profile: string;
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  git: { commit: string | null; dirty: boolean | null };
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; kernel: string; loadavgAtStart: number[]; loadavgAtEnd: number[] };
  database: { kind: BenchServer['kind']; durable: boolean; pgStatStatements: boolean; settings: Record<string, string> };
  config: { mode: Mode; schedulers: number; workers: number; workerConcurrency: number; keelOptions: Record<string, unknown> };
  calibration: Calibration | null;
  scenarios: {
    throughput?: ScenarioOutcome<ThroughputResult>;
    chain?: ScenarioOutcome<ChainResult>;
    pickup?: ScenarioOutcome<PickupResult>;
  };
}

function parseArgs(argv: string[]) {
  const args = { profile: 'full', mode: 'processes' as Mode, concurrency: DEFAULT_CONCURRENCY, workers: 1, schedulers: 1, only: [...SCENARIOS] as ScenarioName[], logLevel: 'info', keepLogs: false, pgss: true, set: {} as Record<string, string>,
    sizes: {} as { throughputRuns?: number; chainRuns?: number; pickupTriggers?: number } };
  for (const a of argv) {
    const [k, v = ''] = a.replace(/^--/, '').split(/=(.*)/s) as [string, string?];
    switch (k) {
      case 'profile': if (!PROFILES[v]) throw new Error(`--profile: one of ${Object.keys(PROFILES).join(', ')}`); args.profile = v; break;
      case 'mode': if (v !== 'processes' && v !== 'inprocess') throw new Error('--mode: processes or inprocess'); args.mode = v; break;
      case 'concurrency': args.concurrency = positive(k, v); break;
      case 'workers': args.workers = positive(k, v); break;
      case 'schedulers': args.schedulers = positive(k, v); break;
      case 'only': {
        const list = v.split(',').map((s) => s.trim()).filter(Boolean);
        for (const s of list) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--only: scenarios are ${SCENARIOS.join(', ')}`);
        args.only = list as ScenarioName[];
        break;
      }
      case 'throughput-runs': args.sizes.throughputRuns = positive(k, v); break;
      case 'chain-runs': args.sizes.chainRuns = positive(k, v); break;
      case 'pickup-triggers': args.sizes.pickupTriggers = positive(k, v); break;
      case 'log-level': args.logLevel = v; break;
      case 'keep-logs': args.keepLogs = true; break;
      case 'no-pgss': args.pgss = false; break;
      case 'set': {
        const [name, value] = v.split(/=(.*)/s) as [string, string?];
        if (!(name in OPTION_SPECS) || value === undefined) throw new Error(`--set=<option>=<value> with a Keel option name (${Object.keys(OPTION_SPECS).join(', ')})`);
        args.set[name] = value;
        break;
      }
      case 'help':
        console.log('npm run bench -- [--profile=full|quick] [--only=throughput,chain,pickup] [--mode=processes|inprocess] [--concurrency=N] [--workers=N] [--schedulers=N] [--throughput-runs=N] [--chain-runs=N] [--pickup-triggers=N] [--log-level=info] [--set=<keelOption>=<value>] [--keep-logs] [--no-pgss]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}; try --help`);
    }
  }
  return args;
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a positive integer`);
  return n;
}

function gitInfo(): BenchReport['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

const cleanups: (() => Promise<void>)[] = [];
async function cleanupAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const base = PROFILES[args.profile]!;
  const profile: Profile = {
    ...base,
    throughput: { ...base.throughput, runs: args.sizes.throughputRuns ?? base.throughput.runs },
    chain: { ...base.chain, runs: args.sizes.chainRuns ?? base.chain.runs },
    pickup: { ...base.pickup, triggers: args.sizes.pickupTriggers ?? base.pickup.triggers },
  };
  const started = new Date();
  const log = (m: string) => console.error(`${new Date().toISOString().slice(11, 23)} ${m}`);
  const loadAtStart = loadavg().map((v) => round(v));

  const options: BenchConfig['options'] = { workerConcurrency: args.concurrency, logLevel: args.logLevel, ...(args.set as Partial<Record<OptionName, string>>) };
  // Validate once, as Keel would, and keep the effective values for the report.
  const effective = loadOptions({ env: {}, noConfigFile: true, overrides: { ...options, databaseUrl: 'postgres://x@127.0.0.1/x', dagsFolder: 'bench/dags' } });
  const keelOptions = Object.fromEntries(Object.entries(effective).filter(([k]) => !['databaseUrl', 'dataDir', 'dagsFolder', 'embeddedPort'].includes(k)));

  const externalUrl = process.env.KEEL_BENCH_DATABASE_URL || undefined;
  log(externalUrl ? 'using KEEL_BENCH_DATABASE_URL' : 'starting embedded PostgreSQL (durable: fsync on, synchronous_commit on)');
  const server = await startBenchServer({ externalUrl, pgss: args.pgss, log });
  cleanups.push(() => server.stop());
  log(`PostgreSQL ${server.settings.server_version ?? '?'}; fsync=${server.settings.fsync}, synchronous_commit=${server.settings.synchronous_commit}; pg_stat_statements ${server.pgss ? 'on' : 'off'}`);

  const config: BenchConfig = { mode: args.mode, schedulers: args.schedulers, workers: args.workers, options, keepLogs: args.keepLogs };
  const ctx: ScenarioContext = { server, config, log };

  log('calibrating: round trip and durable commit');
  let calibration: Calibration | null = null;
  try {
    calibration = await calibrate(server.adminUrl, profile.calibrationSamples);
  } catch (err) {
    log(`calibration failed: ${(err as Error).message}`);
  }

  const scenarios: BenchReport['scenarios'] = {};
  const runOne = async <R>(name: ScenarioName, params: unknown, fn: () => Promise<{ result: R; resources: Resources | null }>): Promise<ScenarioOutcome<R>> => {
    const t = performance.now();
    try {
      const { result, resources } = await fn();
      log(`[${name}] done in ${Math.round((performance.now() - t) / 1000)} s`);
      return { ok: true, params, result, resources };
    } catch (err) {
      log(`[${name}] FAILED: ${(err as Error).stack ?? String(err)}`);
      return { ok: false, params, error: (err as Error).message };
    }
  };
  for (const name of args.only) {
    if (name === 'throughput') scenarios.throughput = await runOne(name, profile.throughput, () => throughput(ctx, profile.throughput));
    if (name === 'chain') scenarios.chain = await runOne(name, profile.chain, () => chain(ctx, profile.chain));
    if (name === 'pickup') scenarios.pickup = await runOne(name, profile.pickup, () => pickup(ctx, profile.pickup));
  }

  const finished = new Date();
  const report: BenchReport = {
    schema: 1,
    profile: args.profile,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSec: round((finished.getTime() - started.getTime()) / 1000, 1),
    git: gitInfo(),
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: round(totalmem() / 2 ** 30, 1), node: process.version, kernel: release(),
      loadavgAtStart: loadAtStart, loadavgAtEnd: loadavg().map((v) => round(v)),
    },
    database: { kind: server.kind, durable: server.settings.fsync === 'on' && server.settings.synchronous_commit === 'on', pgStatStatements: server.pgss, settings: server.settings },
    config: { mode: args.mode, schedulers: args.schedulers, workers: args.workers, workerConcurrency: args.concurrency, keelOptions },
    calibration,
    scenarios,
  };

  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  // Only a full run of every scenario is `latest.json`; a partial run (another profile, or
  // --only) never replaces it.
  const partial = args.only.length < SCENARIOS.length ? `only-${args.only.join('-')}-` : '';
  const prefix = `${args.profile === 'full' ? '' : `${args.profile}-`}${partial}`;
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(dir, `${prefix}latest.json`), json);
  writeFileSync(join(dir, `${prefix}${stamp}.json`), json);

  console.log(renderReport(report));
  console.log(`\nJSON: bench/results/${prefix}latest.json (and ${prefix}${stamp}.json)`);
  return Object.values(scenarios).every((s) => s?.ok) ? 0 : 1;
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60_000} min; cleaning up and giving up`);
  void Promise.race([cleanupAll(), new Promise((r) => setTimeout(r, 20_000))]).then(() => process.exit(3));
}, WATCHDOG_MS);
watchdog.unref();

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`bench: ${sig}; stopping PostgreSQL`);
    void Promise.race([cleanupAll(), new Promise((r) => setTimeout(r, 20_000))]).then(() => process.exit(130));
  });
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
} finally {
  await cleanupAll();
}
process.exit(code);
