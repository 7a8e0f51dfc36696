// The ha kind: what HA costs and how fast Keel recovers, measured on real processes.
//
//   (d) scaling: the same 3,000-task workload with 1, 2 and 3 schedulers, in one run
//   (e) kill -9 of a worker holding an attempt → the attempt running again on another worker
//   (f) kill -9 of a scheduler → a run triggered right after it starts (the survivors schedule it)
//   (g) SIGSTOP of a worker holding an attempt → the attempt running again elsewhere (lease path)
//
// Starts an embedded PostgreSQL with durability on (or KEEL_BENCH_DATABASE_URL), a fresh
// database per scenario, roles as `node bin/keel.js <role>` processes. Every wait is bounded;
// it stops everything it started.
import { join } from 'node:path';
import { triggerDag } from '../../src/runs/manual-run.js';
import type { Database } from '../../src/db/database.js';
import { REPO_ROOT } from '../lib/cluster.js';
import { intFlag, listFlag, type FlagSpec, type FlagValues, type KindContext, type KindOutcome } from '../lib/kind.js';
import { createScenarioDatabase, startBenchServer } from '../lib/postgres.js';
import { componentOf, ready, startProc, stopAll, type Proc } from '../lib/processes.js';
import { round, sleep, summarize, waitFor, type Summary } from '../lib/stats.js';

const SCENARIOS = ['scaling', 'kill-worker', 'kill-scheduler', 'freeze'] as const;
const FREEZE_LEASE_SEC = 5;
const DEFAULT_TRIALS = 20;

export const FLAGS: Record<string, FlagSpec> = {
  trials: { type: 'string', about: `trials per fault (default ${DEFAULT_TRIALS})` },
  scenarios: { type: 'string', about: `some of ${SCENARIOS.join(', ')} (default all)` },
};

async function runningOn(db: Database, runId: string, workerId: string | null, timeoutMs = 30_000): Promise<{ worker_id: string; started_at: Date; attempt_id: string }> {
  return waitFor('the attempt to run', async () => (await db.query<{ worker_id: string; started_at: Date; attempt_id: string }>(
    `SELECT worker_id, started_at, attempt_id FROM task_instance WHERE dag_run_id = $1 AND state = 'running' AND ($2::uuid IS NULL OR worker_id = $2)`, [runId, workerId])).rows[0], timeoutMs, 5);
}

// ---- (d) scaling ------------------------------------------------------------------------

async function scaling(adminUrl: string, dags: string): Promise<{ schedulers: number; tasksPerSec: number }[]> {
  const out: { schedulers: number; tasksPerSec: number }[] = [];
  for (const n of [1, 2, 3]) {
    const s = await createScenarioDatabase(adminUrl, `scale${n}`);
    const procs = [startProc('dag-processor', s.url, dags), ...Array.from({ length: n }, () => startProc('scheduler', s.url, dags)), startProc('worker', s.url, dags, { KEEL_WORKER_CONCURRENCY: '8' })];
    try {
      await ready(s.db, ['bench_fanout']);
      await componentOf(s.db, procs.at(-1)!.child.pid!);
      await sleep(1500); // warm runners
      const runs = await Promise.all(Array.from({ length: 30 }, () => triggerDag(s.db, 'bench_fanout')));
      await waitFor('3,000 tasks', async () => (await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dag_run WHERE id = ANY ($1) AND state IN ('queued', 'running')`, [runs.map((r) => r.id)])).rows[0]!.n === 0, 300_000, 100);
      const t = await s.db.query<{ first: Date; last: Date; n: number }>(
        `SELECT min(r.created_at) AS first, max(ti.ended_at) AS last, count(*)::int AS n FROM task_instance ti JOIN dag_run r ON r.id = ti.dag_run_id WHERE ti.state = 'success' AND r.id = ANY ($1)`, [runs.map((r) => r.id)]);
      const row = t.rows[0]!;
      const tps = round(row.n / ((row.last.getTime() - row.first.getTime()) / 1000), 1);
      out.push({ schedulers: n, tasksPerSec: tps });
      console.log(`  (d) ${n} scheduler(s): ${tps} tasks/s`);
    } finally {
      await stopAll(procs);
      await s.drop();
    }
  }
  return out;
}

// ---- (e) and (g): a worker dies or freezes while holding an attempt ---------------------

async function workerFault(adminUrl: string, dags: string, fault: 'kill' | 'freeze', trials: number): Promise<{ recoveryMs: Summary; detectionMs: Summary; samples: number[] }> {
  const s = await createScenarioDatabase(adminUrl, `worker_${fault}`);
  const extra = { KEEL_WORKER_CONCURRENCY: '1', ...(fault === 'freeze' ? { KEEL_ATTEMPT_LEASE_SEC: String(FREEZE_LEASE_SEC) } : {}) };
  const procs: Proc[] = [startProc('dag-processor', s.url, dags), startProc('scheduler', s.url, dags, extra), startProc('scheduler', s.url, dags, extra)];
  const workers: Proc[] = [startProc('worker', s.url, dags, extra), startProc('worker', s.url, dags, extra)];
  const samples: number[] = [];
  const detection: number[] = [];
  try {
    await ready(s.db, ['bench_sleep']);
    for (const w of workers) await componentOf(s.db, w.child.pid!);
    await sleep(2000);
    for (let i = 0; i < trials; i++) {
      const run = await triggerDag(s.db, 'bench_sleep', { params: { ms: fault === 'kill' ? 4000 : 30_000 } });
      const first = await runningOn(s.db, run.id, null);
      const victim = await waitFor('the victim process', async () => {
        for (const w of workers) if ((await s.db.query(`SELECT 1 FROM component WHERE id = $1 AND pid = $2`, [first.worker_id, w.child.pid])).rowCount) return w;
        return null;
      }, 10_000);
      await sleep(100 + Math.random() * 400); // a random moment inside the attempt
      const at = Date.now();
      victim.child.kill(fault === 'kill' ? 'SIGKILL' : 'SIGSTOP');
      const next = await waitFor('the attempt to run elsewhere', async () => (await s.db.query<{ started_at: Date }>(
        `SELECT started_at FROM task_instance WHERE dag_run_id = $1 AND state = 'running' AND attempt_id <> $2`, [run.id, first.attempt_id])).rows[0], 120_000, 5);
      samples.push(next.started_at.getTime() - at);
      const fencedAt = (await s.db.query<{ at: Date }>(`SELECT at FROM ha_event WHERE kind = 'zombie_fenced' AND details ->> 'attemptId' = $1`, [first.attempt_id])).rows[0]?.at;
      if (fencedAt) detection.push(fencedAt.getTime() - at);
      if (fault === 'kill') {
        await victim.exited;
        workers[workers.indexOf(victim)] = startProc('worker', s.url, dags, extra);
      } else {
        victim.child.kill('SIGCONT');
      }
      // Registered is not enough: a worker claims once its runners are warm and its loop turns.
      await waitFor('two live workers', async () => (await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM component WHERE role = 'worker' AND state = 'running' AND last_heartbeat_at > now() - interval '1 second' AND loop_at > now() - interval '2 seconds'`)).rows[0]!.n >= 2, 60_000);
      // End the trial: stop its run and wait until no attempt of it still occupies a worker slot.
      await s.db.query(`UPDATE task_instance SET state = 'removed' WHERE dag_run_id = $1 AND state IN ('running', 'queued', 'scheduled', 'pending', 'up_for_retry')`, [run.id]);
      await waitFor('the trial\'s attempts to end', async () => (await s.db.query(
        `SELECT 1 FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id WHERE t.dag_run_id = $1 AND a.state = 'running' AND a.worker_id IN (SELECT id FROM component WHERE state = 'running')`, [run.id])).rowCount === 0, 60_000, 50);
      process.stdout.write(`  (${fault === 'kill' ? 'e' : 'g'}) trial ${i + 1}/${trials}: fenced after ${detection.at(-1)} ms, running again after ${samples.at(-1)} ms\n`);
    }
  } finally {
    await stopAll([...procs, ...workers]);
    await s.drop();
  }
  return { recoveryMs: summarize(samples), detectionMs: summarize(detection), samples };
}

// ---- (f) a scheduler dies ---------------------------------------------------------------

async function schedulerKill(adminUrl: string, dags: string, trials: number): Promise<{ pickupAfterKillMs: Summary; pickupBaselineMs: Summary; deadDetectedMs: Summary }> {
  const s = await createScenarioDatabase(adminUrl, 'scheduler_kill');
  const schedulers = [startProc('scheduler', s.url, dags), startProc('scheduler', s.url, dags)];
  const procs = [startProc('dag-processor', s.url, dags), startProc('worker', s.url, dags, { KEEL_WORKER_CONCURRENCY: '2' })];
  const afterKill: number[] = [];
  const baseline: number[] = [];
  const detected: number[] = [];
  const pickup = async (): Promise<number> => {
    const t0 = Date.now();
    const run = await triggerDag(s.db, 'bench_noop');
    const started = await runningOrDone(s.db, run.id);
    return started.getTime() - t0;
  };
  try {
    await ready(s.db, ['bench_noop']);
    for (const p of [...schedulers, procs[1]!]) await componentOf(s.db, p.child.pid!);
    for (let i = 0; i < trials; i++) {
      baseline.push(await pickup());
      const victim = schedulers[i % 2]!;
      const id = await componentOf(s.db, victim.child.pid!);
      const at = Date.now();
      victim.child.kill('SIGKILL');
      afterKill.push(await pickup());
      await waitFor('the dead scheduler to be marked dead', async () => (await s.db.query(`SELECT 1 FROM component WHERE id = $1 AND state = 'dead'`, [id])).rowCount, 30_000, 20);
      detected.push(Date.now() - at);
      await victim.exited;
      schedulers[i % 2] = startProc('scheduler', s.url, dags);
      await componentOf(s.db, schedulers[i % 2]!.child.pid!);
      process.stdout.write(`  (f) trial ${i + 1}/${trials}: pickup right after the kill ${afterKill.at(-1)} ms (baseline ${baseline.at(-1)} ms), marked dead after ${detected.at(-1)} ms\n`);
    }
  } finally {
    await stopAll([...procs, ...schedulers]);
    await s.drop();
  }
  return { pickupAfterKillMs: summarize(afterKill), pickupBaselineMs: summarize(baseline), deadDetectedMs: summarize(detected) };
}

async function runningOrDone(db: Database, runId: string): Promise<Date> {
  return waitFor('the task to start', async () => (await db.query<{ started_at: Date | null }>(`SELECT started_at FROM task_instance WHERE dag_run_id = $1 AND started_at IS NOT NULL`, [runId])).rows[0]?.started_at, 30_000, 2);
}

// ---- the kind ---------------------------------------------------------------------------

export async function run(flags: FlagValues, ctx: KindContext): Promise<KindOutcome> {
  const trials = intFlag(flags, 'trials', DEFAULT_TRIALS);
  const want = new Set(listFlag(flags, 'scenarios', SCENARIOS));
  const startedAt = new Date();
  const server = await startBenchServer({ externalUrl: process.env.KEEL_BENCH_DATABASE_URL, pgss: false, log: ctx.log });
  ctx.cleanup(() => server.stop());
  const dagsHa = join(REPO_ROOT, 'bench', 'dags', 'ha');
  const dagsThroughput = join(REPO_ROOT, 'bench', 'dags', 'throughput');
  console.log(`ha on ${server.kind} PostgreSQL (durable), ${trials} trials per fault`);
  const none = { recoveryMs: summarize([]), detectionMs: summarize([]), samples: [] as number[] };
  const scale = want.has('scaling') ? await scaling(server.adminUrl, dagsThroughput) : [{ schedulers: 1, tasksPerSec: NaN }];
  const killWorker = want.has('kill-worker') ? await workerFault(server.adminUrl, dagsHa, 'kill', trials) : none;
  const killScheduler = want.has('kill-scheduler') ? await schedulerKill(server.adminUrl, dagsHa, trials) : { pickupAfterKillMs: summarize([]), pickupBaselineMs: summarize([]), deadDetectedMs: summarize([]) };
  const freezeWorker = want.has('freeze') ? await workerFault(server.adminUrl, dagsHa, 'freeze', trials) : none;
  const base = scale[0]!.tasksPerSec;
  const result = {
    schema: 1, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), trials,
    defaults: { heartbeatMs: 500, workerLostAfterSec: 1, orphanSweepMs: 250, componentDeadAfterSec: 5, freezeLeaseSec: FREEZE_LEASE_SEC },
    scaling: scale.map((x) => ({ ...x, ratioToOne: round(x.tasksPerSec / base, 2) })),
    killWorker, killScheduler, freezeWorker,
  };
  const p = (s: Summary) => `p50 ${round(s.p50, 0)} ms · p99 ${round(s.p99, 0)} ms (n=${s.n})`;
  console.log('\nresult');
  console.log(`  (d) throughput with 1/2/3 schedulers: ${result.scaling.map((x) => `${x.tasksPerSec}/s (${x.ratioToOne}×)`).join(', ')}`);
  console.log(`  (e) worker killed → attempt fenced: ${p(killWorker.detectionMs)}; → running on another worker: ${p(killWorker.recoveryMs)}`);
  console.log(`  (f) scheduler killed → next run's task started: ${p(killScheduler.pickupAfterKillMs)} (no kill: ${p(killScheduler.pickupBaselineMs)}); marked dead after ${p(killScheduler.deadDetectedMs)}`);
  console.log(`  (g) worker frozen → attempt fenced (lease ${FREEZE_LEASE_SEC} s): ${p(freezeWorker.detectionMs)}; → running elsewhere: ${p(freezeWorker.recoveryMs)}`);
  return { ok: true, result };
}
