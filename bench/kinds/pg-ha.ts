// The pg-ha kind: what database HA costs Keel and how fast Keel resumes after a database
// failover, on a real 3-node Patroni cluster (tools/pg-cluster) from Debian packages.
//
//   (a) per-hop latency, one client: a round trip (SELECT 1) and a durable commit (INSERT)
//       directly on the primary, through HAProxy, through PgBouncer → HAProxy; and commits/s
//       of 8 clients through HAProxy — with synchronous replication off and on, in one run
//   (b) Keel throughput: 1,000 no-op tasks (10 × bench_fanout) through HAProxy, sync off and on
//   (c) Keel's resume after each failover kind (switchover, kill -9 postmaster, node killed):
//       a fleet (1 dag-processor, 2 schedulers, 2 workers) on HAProxy's read-write port with a
//       queue of short tasks; per trial the database's own outage (write probe every 100 ms),
//       fault → first task started after the database was back, and the difference; p50/p99.
//
// Every wait is bounded; it stops everything it started.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Database } from '../../src/db/database.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { startPgCluster, type PgCluster } from '../../tools/pg-cluster/cluster.js';
import { WriteProbe } from '../../tools/pg-cluster/probe.js';
import { firstAtOrAfter, outageAfter } from '../../tools/pg-cluster/analysis.js';
import { FAILOVER_KINDS, databaseUrl, type FailoverKind } from '../../tools/pg-cluster/failover.js';
import { REPO_ROOT } from '../lib/cluster.js';
import { intFlag, listFlag, type FlagSpec, type FlagValues, type KindContext, type KindOutcome } from '../lib/kind.js';
import { createScenarioDatabase } from '../lib/postgres.js';
import { startProc, stopAll } from '../lib/processes.js';
import { round, sleep, summarize, waitFor, type Summary } from '../lib/stats.js';

export const FLAGS: Record<string, FlagSpec> = {
  trials: { type: 'string', about: 'resume trials per failover kind (default 5; 2 with --quick)' },
  quick: { type: 'boolean', about: '2 trials, shorter loads' },
  failovers: { type: 'string', about: `some of ${FAILOVER_KINDS.join(', ')} (default all)` },
  sync: { type: 'boolean', about: 'resume trials with synchronous replication on' },
};

interface Settings { quick: boolean; trials: number; failovers: FailoverKind[]; resumeSync: boolean; latencySamples: number; fanoutRuns: number }

/** A count for a polling loop: a query that fails (a slow connect on a loaded machine) counts as not yet. */
async function count(db: Database, text: string, values: unknown[] = []): Promise<number> {
  return (await db.query<{ n: number }>(text, values).catch(() => null))?.rows[0]?.n ?? -1;
}

async function ready(db: Database, dagIds: string[], workers: number): Promise<void> {
  await waitFor('DAGs to load', async () => (await count(db, `SELECT count(*)::int AS n FROM dag WHERE dag_id = ANY ($1) AND is_active`, [dagIds])) === dagIds.length, 120_000, 200);
  await waitFor('workers to register', async () => (await count(db, `SELECT count(*)::int AS n FROM component WHERE role = 'worker' AND state = 'running'`)) >= workers, 120_000, 200);
}

// ---- (a) per-hop latency and raw commits/s ---------------------------------------------

async function hopLatency(url: string, n: number): Promise<{ roundTripMs: Summary; commitMs: Summary }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE TABLE IF NOT EXISTS keel_bench_hop (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz DEFAULT now())');
    const rt: number[] = [];
    const commit: number[] = [];
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      await c.query('SELECT 1');
      rt.push(performance.now() - t);
      t = performance.now();
      await c.query('INSERT INTO keel_bench_hop DEFAULT VALUES');
      commit.push(performance.now() - t);
    }
    return { roundTripMs: summarize(rt), commitMs: summarize(commit) };
  } finally {
    await c.end();
  }
}

async function commitsPerSec(url: string, clients: number, seconds: number): Promise<number> {
  const end = Date.now() + seconds * 1000;
  const counts = await Promise.all(Array.from({ length: clients }, async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    let n = 0;
    while (Date.now() < end) { await c.query('INSERT INTO keel_bench_hop DEFAULT VALUES'); n++; }
    await c.end();
    return n;
  }));
  return round(counts.reduce((a, b) => a + b, 0) / seconds, 0);
}

// ---- (b) Keel throughput ---------------------------------------------------------------

async function keelThroughput(cluster: PgCluster, label: string, fanoutRuns: number): Promise<number> {
  const s = await createScenarioDatabase(cluster.urls.rw, `pgha_tp_${label}`);
  const dags = join(REPO_ROOT, 'bench', 'dags', 'throughput');
  const procs = [startProc('dag-processor', s.url, dags), startProc('scheduler', s.url, dags), startProc('worker', s.url, dags, { KEEL_WORKER_CONCURRENCY: '8' })];
  try {
    await ready(s.db, ['bench_fanout'], 1);
    await sleep(1500);
    const runs = await Promise.all(Array.from({ length: fanoutRuns }, () => triggerDag(s.db, 'bench_fanout')));
    const ids = runs.map((r) => r.id);
    await waitFor('fan-out runs', async () => (await count(s.db, `SELECT count(*)::int AS n FROM dag_run WHERE id = ANY ($1) AND state IN ('queued', 'running')`, [ids])) === 0, 300_000, 100);
    const t = (await s.db.query<{ first: Date; last: Date; n: number }>(
      `SELECT min(r.created_at) AS first, max(ti.ended_at) AS last, count(*)::int AS n FROM task_instance ti JOIN dag_run r ON r.id = ti.dag_run_id WHERE ti.state = 'success' AND r.id = ANY ($1)`, [ids])).rows[0]!;
    return round(t.n / ((t.last.getTime() - t.first.getTime()) / 1000), 1);
  } finally {
    await stopAll(procs);
    await s.drop();
  }
}

async function overhead(cluster: PgCluster, synchronous: boolean, o: Settings) {
  if (cluster.synchronous !== synchronous) await cluster.setSynchronous(synchronous);
  const leader = await cluster.leader();
  const db = `keel_bench_hops_${synchronous ? 'sync' : 'async'}`;
  const admin = new pg.Client({ connectionString: cluster.urls.rw });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${db}`);
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const hops = {
    direct: await hopLatency(databaseUrl(cluster.urls.nodes[leader]!, db), o.latencySamples),
    haproxy: await hopLatency(databaseUrl(cluster.urls.rw, db), o.latencySamples),
    pgbouncer: await hopLatency(databaseUrl(cluster.urls.pgbouncer, db), o.latencySamples),
  };
  const commits8 = await commitsPerSec(databaseUrl(cluster.urls.rw, db), 8, o.quick ? 3 : 6);
  const keelTasksPerSec = await keelThroughput(cluster, synchronous ? 'sync' : 'async', o.fanoutRuns);
  const line = (k: keyof typeof hops) => `${k} round trip p50 ${hops[k].roundTripMs.p50.toFixed(2)} ms, commit p50 ${hops[k].commitMs.p50.toFixed(2)} / p99 ${hops[k].commitMs.p99.toFixed(2)} ms`;
  console.log(`  (a) sync ${synchronous ? 'on ' : 'off'}: ${line('direct')}; ${line('haproxy')}; ${line('pgbouncer')}; 8 clients via HAProxy ${commits8} commits/s`);
  console.log(`  (b) sync ${synchronous ? 'on ' : 'off'}: Keel ${keelTasksPerSec} tasks/s (${o.fanoutRuns * 100} no-op tasks through HAProxy)`);
  return { synchronous, hops, commitsPerSec8Clients: commits8, keelTasksPerSec };
}

// ---- (c) resume after failover -----------------------------------------------------------

interface Trial { kind: FailoverKind; dbOutageMs: number; keelResumeMs: number | null; keelExtraMs: number | null; fromLeader: string; toLeader: string }

/** Trials done so far, kept if a later one fails, so a long run still reports what it measured. */
const partialTrials: Trial[] = [];

async function resumeTrials(cluster: PgCluster, o: Settings): Promise<Trial[]> {
  if (cluster.synchronous !== o.resumeSync) await cluster.setSynchronous(o.resumeSync);
  const s = await createScenarioDatabase(cluster.urls.rw, 'pgha_resume');
  const dags = join(REPO_ROOT, 'bench', 'dags', 'ha');
  const keel = { KEEL_ATTEMPT_LEASE_SEC: '30', KEEL_DB_OUTAGE_GRACE_SEC: '15', KEEL_WORKER_CONCURRENCY: '4' };
  const procs = [startProc('dag-processor', s.url, dags, keel), startProc('scheduler', s.url, dags, keel), startProc('scheduler', s.url, dags, keel),
    startProc('worker', s.url, dags, keel), startProc('worker', s.url, dags, keel)];
  const probe = new WriteProbe(s.url);
  let stop = false;
  // Keeps 15-40 short tasks queued, so that a worker has work the moment the database is back.
  const feeder = (async () => {
    while (!stop) {
      try {
        const q = (await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_instance WHERE state IN ('scheduled', 'queued')`)).rows[0]!.n;
        if (q < 15) await Promise.all(Array.from({ length: 25 }, () => triggerDag(s.db, 'bench_sleep', { params: { ms: 300 } })));
      } catch { /* the database is failing over */ }
      await sleep(200);
    }
  })();
  const trials = partialTrials;
  try {
    await ready(s.db, ['bench_sleep'], 2);
    await probe.start();
    const deadline = Date.now() + (o.quick ? 8 : 20) * 60_000;
    for (let i = 0; i < o.trials && Date.now() < deadline; i++) {
      for (const kind of o.failovers) {
        await cluster.waitHealthy(120_000);
        await sleep(3000);
        const fromLeader = await cluster.leader();
        let faultAt: number;
        if (kind === 'switchover') faultAt = (await cluster.switchover()).at.getTime();
        else if (kind === 'kill-postmaster') faultAt = cluster.killPostmaster(fromLeader).at.getTime();
        else {
          faultAt = cluster.killNode(fromLeader).at.getTime();
          await waitFor('a new leader', async () => (await cluster.members()).some((m) => m.role === 'leader' && m.state === 'running' && m.name !== fromLeader), 60_000, 200);
          await cluster.restartNode(fromLeader);
        }
        await cluster.waitHealthy(120_000);
        await sleep(2000);
        const outage = outageAfter(probe.samples.filter((x) => x.sentAt >= faultAt - 2000), faultAt);
        const starts = (await s.db.query<{ t: Date }>('SELECT started_at AS t FROM task_attempt WHERE started_at >= $1', [new Date(outage.backAt)])).rows.map((r) => r.t);
        const first = firstAtOrAfter(starts, outage.backAt);
        const keelResumeMs = first === null ? null : first - faultAt;
        const t: Trial = { kind, dbOutageMs: outage.outageMs, keelResumeMs, keelExtraMs: keelResumeMs === null ? null : keelResumeMs - outage.outageMs, fromLeader, toLeader: await cluster.leader() };
        trials.push(t);
        console.log(`  (c) trial ${i + 1}/${o.trials} ${kind}: database outage ${t.dbOutageMs} ms, Keel resumed after ${t.keelResumeMs} ms (extra ${t.keelExtraMs} ms), ${fromLeader} → ${t.toLeader}`);
      }
    }
    const fenced = await count(s.db, `SELECT count(*)::int AS n FROM task_attempt WHERE state = 'fenced' OR error LIKE '%self-fenced%'`);
    console.log(`  (c) attempts fenced or self-fenced over all trials: ${fenced < 0 ? 'unknown (query failed)' : fenced}`);
  } finally {
    stop = true;
    await feeder;
    await probe.stop();
    await stopAll(procs);
    await s.drop().catch(() => {});
  }
  return trials;
}

// ---- the kind ---------------------------------------------------------------------------

export async function run(flags: FlagValues, ctx: KindContext): Promise<KindOutcome> {
  const quick = Boolean(flags.quick);
  const o: Settings = {
    quick, trials: intFlag(flags, 'trials', quick ? 2 : 5), failovers: listFlag(flags, 'failovers', FAILOVER_KINDS), resumeSync: Boolean(flags.sync),
    latencySamples: quick ? 150 : 400, fanoutRuns: quick ? 5 : 10,
  };
  const startedAt = new Date();
  const loadAtStart = loadavg().map((x) => round(x, 1));
  const cluster = await startPgCluster({ log: ctx.log });
  ctx.cleanup(() => cluster.stop());
  console.log(`pg-ha (load average ${loadAtStart.join(' ')}; other load on the machine distorts every number): 3-node Patroni cluster, ${o.trials} trial(s) per failover kind (${o.failovers.join(', ')}), resume trials with sync ${o.resumeSync ? 'on' : 'off'}`);
  const async = await overhead(cluster, false, o);
  const sync = await overhead(cluster, true, o);
  const trials = await resumeTrials(cluster, o).catch((err: Error) => {
    console.error(`pg-ha: resume trials stopped early: ${err.message}`);
    return partialTrials;
  });
  const byKind = Object.fromEntries(o.failovers.map((k) => {
    const ts = trials.filter((t) => t.kind === k);
    return [k, {
      trials: ts.length,
      dbOutageMs: summarize(ts.map((t) => t.dbOutageMs)),
      keelResumeMs: summarize(ts.map((t) => t.keelResumeMs ?? NaN)),
      keelExtraMs: summarize(ts.map((t) => t.keelExtraMs ?? NaN)),
    }];
  }));
  const result = {
    schema: 1, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), loadavgAtStart: loadAtStart, loadavgAtEnd: loadavg().map((x) => round(x, 1)), quick, trialsPerKind: o.trials, resumeSynchronous: o.resumeSync,
    overhead: { async, sync, commitLatencyRatioViaHaproxy: round(sync.hops.haproxy.commitMs.p50 / async.hops.haproxy.commitMs.p50, 2), keelThroughputRatio: round(sync.keelTasksPerSec / async.keelTasksPerSec, 2) },
    resume: byKind, trials,
  };
  const p = (s: Summary) => `p50 ${round(s.p50, 0)} · p99 ${round(s.p99, 0)} ms`;
  console.log('\nresult');
  console.log(`  synchronous replication: commit via HAProxy p50 ${async.hops.haproxy.commitMs.p50.toFixed(2)} → ${sync.hops.haproxy.commitMs.p50.toFixed(2)} ms (${result.overhead.commitLatencyRatioViaHaproxy}×); 8 clients ${async.commitsPerSec8Clients} → ${sync.commitsPerSec8Clients} commits/s; Keel ${async.keelTasksPerSec} → ${sync.keelTasksPerSec} tasks/s`);
  for (const k of o.failovers) {
    const r = byKind[k]!;
    console.log(`  ${k} (n=${r.trials}): database outage ${p(r.dbOutageMs)}; Keel resumed ${p(r.keelResumeMs)}; extra ${p(r.keelExtraMs)}`);
  }
  return { ok: true, result };
}
