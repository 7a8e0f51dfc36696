// The parsing kind: DAG parsing throughput with 1 and then 2 DAG processors sharing one
// generated folder of DAG files (500 by default).
//
// Each phase gets a fresh database and `node bin/keel.js dag-processor` processes at
// Keel's defaults (dagParseConcurrency warm loaders each). The headline is files stored
// per second between the first and the last store (dag_file.last_parsed_at, database
// clock); also reported: the time from the first processor's registration
// (component.started_at) to the last store, which includes process start-up. From the processes' logs it also counts
// how many files each processor loaded and whether any file was loaded twice. Every wait
// is bounded (a phase gives up after --max-sec, 130 s by default, and reports what it
// parsed); it stops everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPTION_SPECS } from '../../src/config/options.js';
import { REPO_ROOT } from '../lib/cluster.js';
import { intFlag, type FlagSpec, type FlagValues, type KindContext, type KindOutcome } from '../lib/kind.js';
import { createScenarioDatabase, startBenchServer } from '../lib/postgres.js';
import { round, sleep } from '../lib/stats.js';

const KEEL_BIN = join(REPO_ROOT, 'bin', 'keel.js');
const SDK_URL = new URL('../../src/sdk/index.ts', import.meta.url).href;
const DEFAULT_FILES = 500;
const DEFAULT_MAX_SEC = 130;

export const FLAGS: Record<string, FlagSpec> = {
  files: { type: 'string', about: `DAG files in the generated folder (default ${DEFAULT_FILES})` },
  'max-sec': { type: 'string', about: `a phase gives up after this long and reports what it parsed (default ${DEFAULT_MAX_SEC})` },
};

interface Proc { child: ChildProcess; out: string[]; exited: Promise<void> }

function startProcessor(url: string, dags: string): Proc {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEEL_')));
  Object.assign(env, { KEEL_DATABASE_URL: url, KEEL_DAGS_FOLDER: dags, KEEL_LOG_FORMAT: 'json', KEEL_LOG_LEVEL: 'info', KEEL_DB_OUTAGE_GRACE_SEC: '0' });
  const child = spawn(process.execPath, [KEEL_BIN, 'dag-processor'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const out: string[] = [];
  let rest = '';
  child.stdout!.on('data', (c: Buffer) => {
    const lines = (rest + c.toString()).split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l.includes('"DAG file loaded"')) out.push((JSON.parse(l) as { file: string }).file);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, out, exited };
}

function generate(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const id = `parse_${String(i).padStart(4, '0')}`;
    const tasks = 3 + (i % 8);
    writeFileSync(join(dir, `${id}.ts`), `import { dag } from ${JSON.stringify(SDK_URL)};
export default dag({ id: '${id}', schedule: '@daily', startDate: '2026-01-01', catchup: false, tags: ['bench'] }, (d) => {
${Array.from({ length: tasks }, (_, k) => `  d.task('t${k}', ${k ? `{ upstream: 't${k - 1}', retries: ${k % 3} }, ` : ''}() => ${k});`).join('\n')}
});
`);
  }
}

interface Phase {
  processors: number;
  filesStored: number;
  complete: boolean;
  /** First store → last store. */
  seconds: number;
  filesPerSec: number;
  /** First processor registered → last store (includes start-up). */
  fromStartSeconds: number;
  wallSeconds: number;
  loadedPerProcessor: number[];
  loadedTwice: number;
  importErrors: number;
}

async function phase(adminUrl: string, dags: string, n: number, files: number, maxSec: number): Promise<Phase> {
  const s = await createScenarioDatabase(adminUrl, `parsing${n}`);
  const spawnedAt = Date.now();
  const procs = Array.from({ length: n }, () => startProcessor(s.url, dags));
  try {
    const deadline = spawnedAt + maxSec * 1000;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = (await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dag_file')).rows[0]!.n;
      if (stored >= files) break;
      await sleep(200);
    }
    const wallSeconds = (Date.now() - spawnedAt) / 1000;
    const t = (await s.db.query<{ registered: Date; first: Date; last: Date; n: number; errors: number }>(
      `SELECT (SELECT min(started_at) FROM component WHERE role = 'dag-processor') AS registered, min(last_parsed_at) AS first, max(last_parsed_at) AS last, count(*)::int AS n,
              count(*) FILTER (WHERE import_error IS NOT NULL)::int AS errors FROM dag_file`)).rows[0]!;
    await sleep(1000); // a second load of some file would show in the logs by now
    const seconds = (t.last.getTime() - t.first.getTime()) / 1000;
    const all = procs.flatMap((p) => p.out);
    return {
      processors: n, filesStored: t.n, complete: t.n >= files, seconds: round(seconds, 2), filesPerSec: round((t.n - 1) / seconds, 1),
      fromStartSeconds: round((t.last.getTime() - t.registered.getTime()) / 1000, 2),
      wallSeconds: round(wallSeconds, 1), loadedPerProcessor: procs.map((p) => p.out.length), loadedTwice: all.length - new Set(all).size, importErrors: t.errors,
    };
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await s.drop();
  }
}

export async function run(flags: FlagValues, ctx: KindContext): Promise<KindOutcome> {
  const files = intFlag(flags, 'files', DEFAULT_FILES, 2);
  const maxSec = intFlag(flags, 'max-sec', DEFAULT_MAX_SEC);
  const startedAt = new Date();
  const dags = mkdtempSync(join(tmpdir(), 'keel-bench-parsing-'));
  ctx.cleanup(async () => rmSync(dags, { recursive: true, force: true }));
  const server = await startBenchServer({ externalUrl: process.env.KEEL_BENCH_DATABASE_URL, pgss: false, log: ctx.log });
  ctx.cleanup(() => server.stop());
  generate(dags, files);
  console.log(`parsing on ${server.kind} PostgreSQL, ${files} DAG files, ${availableParallelism()} CPUs, load ${loadavg().map((x) => round(x, 2)).join(' ')}`);
  const phases: Phase[] = [];
  for (const n of [1, 2]) {
    const p = await phase(server.adminUrl, dags, n, files, maxSec);
    phases.push(p);
    console.log(`  ${n} processor(s): ${p.filesStored}/${files} files in ${p.seconds} s → ${p.filesPerSec} files/s (${p.fromStartSeconds} s from start-up); loaded per processor ${p.loadedPerProcessor.join(' + ')}, loaded twice: ${p.loadedTwice}`);
  }
  const result = {
    schema: 1, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), files, cpus: availableParallelism(), loadAverage: loadavg().map((x) => round(x, 2)),
    dagParseConcurrency: OPTION_SPECS.dagParseConcurrency.default, database: server.kind,
    phases, speedup: round(phases[1]!.filesPerSec / phases[0]!.filesPerSec, 2),
  };
  console.log(`speedup with 2 processors: ${result.speedup}×`);
  return { ok: true, result };
}
