// The triggers kind: deferrable tasks and triggerers in HA, measured on real processes.
//
//   (a) trigger latency: an external event posted → the deferred task's resumed attempt
//       running (task_attempt.started_at; both instants on the database clock), over N
//       deferred sensors held by 2 triggerers; also posted → trigger fired (the triggerer's part)
//   (b) kill -9 of the triggerer holding the triggers → every one of them held by the other copy
//   (c) SIGSTOP of that triggerer (frozen past its trigger lease) → the same, by lease expiry
//
// Starts an embedded PostgreSQL with durability on (or KEEL_BENCH_DATABASE_URL), a fresh
// database per scenario, roles as `node bin/keel.js <role>` processes with their default
// options (the freeze scenario shortens the trigger lease to FREEZE_LEASE_SEC). Every wait is
// bounded; it stops everything it started.
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Database } from '../../src/db/database.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { postExternalEvent } from '../../src/deferral/external-events.js';
import { REPO_ROOT } from '../lib/cluster.js';
import { intFlag, listFlag, type FlagSpec, type FlagValues, type KindContext, type KindOutcome } from '../lib/kind.js';
import { createScenarioDatabase, startBenchServer } from '../lib/postgres.js';
import { componentOf, ready, startProc, stopAll, type Proc } from '../lib/processes.js';
import { round, sleep, summarize, waitFor, type Summary } from '../lib/stats.js';

const SCENARIOS = ['latency', 'kill', 'freeze'] as const;
const DEFAULT_TRIALS = 8;
const DEFAULT_DEFERRED = 50;

export const FLAGS: Record<string, FlagSpec> = {
  trials: { type: 'string', about: `trials per fault (default ${DEFAULT_TRIALS})` },
  deferred: { type: 'string', about: `deferred sensors in the latency scenario (default ${DEFAULT_DEFERRED})` },
  scenarios: { type: 'string', about: `some of ${SCENARIOS.join(', ')} (default all)` },
};

/** Deferred tasks waiting during the takeover trials. */
const HELD = 20;
const FREEZE_LEASE_SEC = 5;
const DAGS = join(REPO_ROOT, 'bench', 'dags', 'triggers');
const DAG_ID = 'bench_external';

/** Starts `count` deferred sensors, each waiting on its own key; returns the keys by run id. */
async function deferMany(db: Database, count: number, prefix: string): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}-${i}-${Date.now()}`;
    keys.set((await triggerDag(db, DAG_ID, { params: { key } })).id, key);
  }
  await waitFor(`${count} triggers held by a triggerer`, async () => (await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM trigger WHERE state = 'waiting' AND holder_id IS NOT NULL AND lease_expires_at > now()`)).rows[0]!.n === count, 120_000, 50);
  return keys;
}

async function holdersCount(db: Database): Promise<Map<string, number>> {
  const rows = (await db.query<{ holder_id: string; n: number }>(
    `SELECT holder_id, count(*)::int AS n FROM trigger WHERE state = 'waiting' AND holder_id IS NOT NULL GROUP BY holder_id`)).rows;
  return new Map(rows.map((r) => [r.holder_id, r.n]));
}

/** Two triggerers have registered and their loops turn. */
async function triggerersLive(db: Database): Promise<void> {
  await waitFor('two live triggerers', async () => (await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM component WHERE role = 'triggerer' AND state = 'running' AND last_heartbeat_at > now() - interval '1 second' AND loop_at > now() - interval '2 seconds'`)).rows[0]!.n >= 2, 60_000);
}

function baseProcs(url: string): Proc[] {
  return [startProc('dag-processor', url, DAGS), startProc('scheduler', url, DAGS), startProc('worker', url, DAGS, { KEEL_WORKER_CONCURRENCY: '8' })];
}

// ---- (a) latency ------------------------------------------------------------------------

interface Latency { deferred: number; triggerers: number; split: number[]; postedToFiredMs: Summary; postedToRunningMs: Summary }

async function latency(adminUrl: string, deferred: number): Promise<Latency> {
  const s = await createScenarioDatabase(adminUrl, 'trigger_latency');
  const procs = baseProcs(s.url);
  const triggerers = [startProc('triggerer', s.url, DAGS), startProc('triggerer', s.url, DAGS)];
  const fired: number[] = [];
  const running: number[] = [];
  try {
    await ready(s.db, [DAG_ID]);
    for (const p of [procs[2]!, ...triggerers]) await componentOf(s.db, p.child.pid!);
    await triggerersLive(s.db);
    const keys = await deferMany(s.db, deferred, 'lat');
    const split = [...(await holdersCount(s.db)).values()].sort((a, b) => b - a);
    console.log(`  (a) ${deferred} deferred sensors waiting, held ${split.join(' + ')} by ${triggerers.length} triggerers`);
    await sleep(1000);
    let i = 0;
    for (const [runId, key] of keys) {
      const e = await postExternalEvent(s.db, key, { i });
      const row = await waitFor('the resumed attempt to run', async () => (await s.db.query<{ started_at: Date; fired_at: Date }>(`
        SELECT a.started_at, tr.fired_at
        FROM task_instance ti
        JOIN task_attempt a ON a.task_instance_id = ti.id AND a.state <> 'deferred'
        JOIN trigger tr ON tr.task_instance_id = ti.id
        WHERE ti.dag_run_id = $1
        ORDER BY a.started_at DESC LIMIT 1`, [runId])).rows[0], 30_000, 5);
      fired.push(row.fired_at.getTime() - e.postedAt.getTime());
      running.push(row.started_at.getTime() - e.postedAt.getTime());
      if (++i % 10 === 0) process.stdout.write(`  (a) ${i}/${deferred}: posted → fired ${fired.at(-1)} ms, → running ${running.at(-1)} ms\n`);
      await sleep(50 + Math.random() * 100);
    }
    return { deferred, triggerers: triggerers.length, split, postedToFiredMs: summarize(fired), postedToRunningMs: summarize(running) };
  } finally {
    await stopAll([...procs, ...triggerers]);
    await s.drop();
  }
}

// ---- (b) and (c): the triggerer holding the triggers dies or freezes ---------------------

interface Takeover { trials: number; triggersPerTrial: number; takeoverMs: Summary; samples: number[] }

async function takeover(adminUrl: string, fault: 'kill' | 'freeze', trials: number): Promise<Takeover> {
  const s = await createScenarioDatabase(adminUrl, `trigger_${fault}`);
  const extra: Record<string, string> = fault === 'freeze' ? { KEEL_TRIGGER_LEASE_SEC: String(FREEZE_LEASE_SEC) } : {};
  const procs = baseProcs(s.url);
  const triggerers = [startProc('triggerer', s.url, DAGS, extra), startProc('triggerer', s.url, DAGS, extra)];
  const ids = new Map<Proc, string>();
  const samples: number[] = [];
  const tag = fault === 'kill' ? 'b' : 'c';
  try {
    await ready(s.db, [DAG_ID]);
    for (const p of triggerers) ids.set(p, await componentOf(s.db, p.child.pid!));
    await triggerersLive(s.db);
    await deferMany(s.db, HELD, fault);
    for (let i = 0; i < trials; i++) {
      // The victim is the copy holding the most triggers (after the first trial: all of them).
      const held = await holdersCount(s.db);
      const victim = triggerers.reduce((a, b) => ((held.get(ids.get(a)!) ?? 0) >= (held.get(ids.get(b)!) ?? 0) ? a : b));
      const survivor = triggerers.find((p) => p !== victim)!;
      const victimHeld = held.get(ids.get(victim)!) ?? 0;
      await sleep(200 + Math.random() * 300); // a random moment between two renewals
      const at = Date.now();
      victim.child.kill(fault === 'kill' ? 'SIGKILL' : 'SIGSTOP');
      await waitFor('the survivor to hold every trigger', async () => (await s.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM trigger WHERE state = 'waiting' AND holder_id = $1`, [ids.get(survivor)!])).rows[0]!.n === HELD, 60_000, 10);
      samples.push(Date.now() - at);
      process.stdout.write(`  (${tag}) trial ${i + 1}/${trials}: ${victimHeld} trigger(s) of the ${fault === 'kill' ? 'killed' : 'frozen'} triggerer held by the other after ${samples.at(-1)} ms\n`);
      // Replace the victim with a fresh copy (a frozen one is woken first, then ended).
      await stopAll([victim]);
      const fresh = startProc('triggerer', s.url, DAGS, extra);
      triggerers[triggerers.indexOf(victim)] = fresh;
      ids.set(fresh, await componentOf(s.db, fresh.child.pid!));
      await triggerersLive(s.db);
    }
    return { trials, triggersPerTrial: HELD, takeoverMs: summarize(samples), samples };
  } finally {
    await stopAll([...procs, ...triggerers]);
    await s.drop();
  }
}

// ---- the kind ---------------------------------------------------------------------------

export async function run(flags: FlagValues, ctx: KindContext): Promise<KindOutcome> {
  const trials = intFlag(flags, 'trials', DEFAULT_TRIALS);
  const deferred = intFlag(flags, 'deferred', DEFAULT_DEFERRED);
  const want = new Set(listFlag(flags, 'scenarios', SCENARIOS));
  const startedAt = new Date();
  const loadAtStart = loadavg().map((x) => round(x, 2));
  const server = await startBenchServer({ externalUrl: process.env.KEEL_BENCH_DATABASE_URL, pgss: false, log: ctx.log });
  ctx.cleanup(() => server.stop());
  console.log(`triggers on ${server.kind} PostgreSQL (durable), ${deferred} deferred tasks, ${trials} trials per fault; load average ${loadAtStart.join(' ')} on ${cpus().length} CPUs`);
  const none: Takeover = { trials: 0, triggersPerTrial: HELD, takeoverMs: summarize([]), samples: [] };
  const lat = want.has('latency') ? await latency(server.adminUrl, deferred) : null;
  const kill = want.has('kill') ? await takeover(server.adminUrl, 'kill', trials) : none;
  const freeze = want.has('freeze') ? await takeover(server.adminUrl, 'freeze', trials) : none;
  const result = {
    schema: 1, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map((x) => round(x, 2)) },
    defaults: { triggererPollMs: 1000, triggerLeaseSec: 10, triggererLostAfterSec: 1, freezeLeaseSec: FREEZE_LEASE_SEC },
    latency: lat, killTakeover: kill, freezeTakeover: freeze,
  };
  const p = (x: Summary) => `p50 ${round(x.p50, 0)} ms · p99 ${round(x.p99, 0)} ms (n=${x.n})`;
  console.log('\nresult');
  if (lat) console.log(`  (a) event posted → trigger fired: ${p(lat.postedToFiredMs)}; → resumed attempt running: ${p(lat.postedToRunningMs)}`);
  console.log(`  (b) triggerer killed → its ${HELD} triggers held by the other: ${p(kill.takeoverMs)}`);
  console.log(`  (c) triggerer frozen (lease ${FREEZE_LEASE_SEC} s) → the same: ${p(freeze.takeoverMs)}`);
  console.log(`  load average at the end: ${result.machine.loadAverageAtEnd.join(' ')}`);
  return { ok: true, result };
}
