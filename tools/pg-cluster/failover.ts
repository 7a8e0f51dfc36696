// One database failover under Keel's chaos workload: real schedulers and workers on the
// cluster's read-write URL (HAProxy), a write probe beside them, one fault at a set moment
// (a patronictl switchover, kill -9 of the primary's postmaster, or the whole primary node
// killed), then the chaos checker's books plus the failover's own: outage, Keel's resume,
// casualties and what asynchronous replication lost. Used by test/cluster and bench/pg-ha.
import pg from 'pg';
import { runChaos, type ChaosResult } from '../../src/ops/chaos/harness.js';
import type { Logger } from '../../src/log.js';
import { declaredDead, failoverCasualties, firstAtOrAfter, outageAfter, type AttemptEnd, type HaEventRow } from './analysis.js';
import type { PgCluster } from './cluster.js';
import { WriteProbe } from './probe.js';

export type FailoverKind = 'switchover' | 'kill-postmaster' | 'kill-node';
export const FAILOVER_KINDS: FailoverKind[] = ['switchover', 'kill-postmaster', 'kill-node'];

export interface FailoverOptions {
  kind: FailoverKind;
  synchronous: boolean;
  log: Logger;
  /** Seconds of workload before the fault. */
  warmupSec?: number;
  /** Seconds the trigger loop runs in all. */
  durationSec?: number;
  schedulers?: number;
  workers?: number;
  seed?: number;
  /** Keel processes' transactions go through PgBouncer (transaction pooling); their sessions and LISTEN through HAProxy. */
  viaPgBouncer?: boolean;
}

export interface FailoverResult {
  kind: FailoverKind;
  synchronous: boolean;
  viaPgBouncer: boolean;
  fromLeader: string;
  toLeader: string;
  timelineBefore: number;
  timelineAfter: number;
  /** The database's own write outage, fault → first probe write that succeeded again. */
  dbOutageMs: number;
  /** Fault → first task attempt started once the database was back (worker side). */
  keelResumeMs: number | null;
  /** Fault → first task instance queued once the database was back (scheduler side). */
  schedulerResumeMs: number | null;
  /** keelResumeMs − dbOutageMs. */
  keelExtraMs: number | null;
  probeFailedWrites: number;
  probeAcknowledged: number;
  /** Probe writes acknowledged and then missing on the new primary. */
  probeLost: number;
  /** Violations of the chaos checker (acknowledged triggers lost, duplicates, two results, overlaps, unfinished runs). */
  violations: string[];
  /** Attempts fenced, self-fenced or failed because of the failover. */
  casualties: string[];
  /** Components declared dead during the failover (none was killed): reported, see docs/database-ha.md. */
  declaredDead: string[];
  chaos: Pick<ChaosResult, 'settled'> & { runs: number; taskInstances: number; attempts: number };
  failoverDetectedEvents: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh, empty database on the cluster (dropped first if it exists). */
export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
}

async function inject(cluster: PgCluster, kind: FailoverKind, leader: string): Promise<number> {
  if (kind === 'switchover') {
    const at = Date.now();
    await cluster.switchover();
    return at;
  }
  if (kind === 'kill-postmaster') return cluster.killPostmaster(leader).at.getTime();
  const at = cluster.killNode(leader).at.getTime();
  // The node comes back once another leads (as an operator would restart a crashed machine); it rejoins with pg_rewind.
  await waitForNewLeader(cluster, leader, 60_000);
  await cluster.restartNode(leader);
  return at;
}

async function waitForNewLeader(cluster: PgCluster, old: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const l = (await cluster.members()).find((m) => m.role === 'leader' && m.state === 'running')?.name;
    if (l && l !== old) return l;
    await sleep(200);
  }
  throw new Error(`no new leader within ${timeoutMs} ms after ${old} failed`);
}

export async function runFailover(cluster: PgCluster, opts: FailoverOptions): Promise<FailoverResult> {
  if (cluster.synchronous !== opts.synchronous) await cluster.setSynchronous(opts.synchronous);
  await cluster.waitHealthy();
  const name = `keel_fo_${opts.kind.replace('-', '_')}_${opts.synchronous ? 'sync' : 'async'}_${Date.now().toString(36)}`;
  await createDatabase(cluster.urls.rw, name);
  const url = databaseUrl(cluster.urls.rw, name);
  const fromLeader = await cluster.leader();
  const timelineBefore = await cluster.timeline();
  const probe = new WriteProbe(url);
  await probe.start();
  let faultAt = 0;
  let chaos: ChaosResult;
  try {
    chaos = await runChaos({
      databaseUrl: url,
      ...(opts.viaPgBouncer ? { processDatabaseUrl: databaseUrl(cluster.urls.pgbouncer, name), processSessionDatabaseUrl: url } : {}),
      durationSec: opts.durationSec ?? 24, schedulers: opts.schedulers ?? 2, workers: opts.workers ?? 2,
      faultEverySec: 1e9, freezeShare: 0, leaseSec: 30, outageGraceSec: 15, triggerEverySec: 0.5, maxRuns: 400,
      seed: opts.seed ?? 7, settleTimeoutSec: 90, log: opts.log,
      faultPlan: async ({ log }) => {
        await sleep((opts.warmupSec ?? 6) * 1000);
        log.info({ kind: opts.kind, leader: fromLeader }, 'failover: fault');
        faultAt = await inject(cluster, opts.kind, fromLeader);
      },
    });
  } finally {
    await probe.stop();
  }
  const toLeader = await cluster.leader();
  const timelineAfter = await cluster.timeline();
  const outage = outageAfter(probe.samples, faultAt);
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    const starts = await c.query<{ t: Date }>('SELECT started_at AS t FROM task_attempt');
    const queued = await c.query<{ t: Date }>('SELECT queued_at AS t FROM task_instance WHERE queued_at IS NOT NULL');
    const attempts = await c.query<AttemptEnd>(`SELECT attempt_id, state, error, ended_at FROM task_attempt WHERE state <> 'success'`);
    const events = await c.query<HaEventRow>(`SELECT kind, at, details FROM ha_event WHERE kind IN ('zombie_fenced', 'component_dead')`);
    const detected = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ha_event WHERE kind = 'failover_detected'`);
    const started = firstAtOrAfter(starts.rows.map((r) => r.t), outage.backAt);
    const q = firstAtOrAfter(queued.rows.map((r) => r.t), outage.backAt);
    const keelResumeMs = started === null ? null : started - faultAt;
    const lost = await probe.lost(url);
    return {
      kind: opts.kind, synchronous: opts.synchronous, viaPgBouncer: opts.viaPgBouncer ?? false, fromLeader, toLeader, timelineBefore, timelineAfter,
      dbOutageMs: outage.outageMs, keelResumeMs, schedulerResumeMs: q === null ? null : q - faultAt,
      keelExtraMs: keelResumeMs === null ? null : keelResumeMs - outage.outageMs,
      probeFailedWrites: outage.failedWrites, probeAcknowledged: probe.acknowledged().length, probeLost: lost.length,
      violations: chaos.report.violations, casualties: failoverCasualties(attempts.rows, events.rows), declaredDead: declaredDead(events.rows),
      chaos: { settled: chaos.settled, runs: chaos.report.runs, taskInstances: chaos.report.taskInstances, attempts: chaos.report.attempts },
      failoverDetectedEvents: detected.rows[0]!.n,
    };
  } finally {
    await c.end();
  }
}
