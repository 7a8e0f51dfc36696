// `keel chaos`: a cluster of real Keel processes on one database, a workload of DAG runs
// (with deferred tasks and sensors when triggerers run), and faults at random moments —
// SIGKILL (then a restart) or SIGSTOP for longer than the lease (then SIGCONT) — on
// schedulers, workers, triggerers and DAG processors, followed by the checker. Bounded in time and count; it stops by
// itself and stops every process it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Database } from '../../db/database.js';
import { migrate } from '../../db/migrate.js';
import { startEmbedded } from '../../db/embedded.js';
import { freePort } from '../../free-port.js';
import { triggerDag } from '../../runs/manual-run.js';
import { postExternalEvent } from '../../deferral/external-events.js';
import type { Logger } from '../../log.js';
import { checkChaos, type AckedRun, type ChaosReport, type Fault, type Flap } from './checker.js';
import { approvalKey } from './keys.js';
import { sql } from '../../db/sql.js';

export interface ChaosOptions {
  /** Database to use (it must be dedicated to the run); unset: an embedded server in a temp folder. */
  databaseUrl?: string;
  durationSec: number;
  schedulers: number;
  workers: number;
  /** Triggerer processes (default 0); with any, the workload includes deferred tasks and sensors. */
  triggerers?: number;
  /** DAG processor processes (default 1); with two or more, processors are faulted too. */
  dagProcessors?: number;
  /** Mean seconds between two faults. */
  faultEverySec: number;
  /** Share of faults that freeze instead of kill. */
  freezeShare: number;
  leaseSec: number;
  /** Mean seconds between two triggers. */
  triggerEverySec: number;
  /** Most runs to trigger. */
  maxRuns: number;
  seed: number;
  /** Longest wait for the last runs after the fault phase. */
  settleTimeoutSec: number;
  log: Logger;
  /** KEEL_DB_OUTAGE_GRACE_SEC of the processes (default 0: the fault is a process, not the database). */
  outageGraceSec?: number;
  /** KEEL_DATABASE_URL of the processes, when it differs from databaseUrl (for example a PgBouncer URL). */
  processDatabaseUrl?: string;
  /** KEEL_SESSION_DATABASE_URL of the processes (a real session, when processDatabaseUrl is a transaction pooler). */
  processSessionDatabaseUrl?: string;
  /**
   * Replaces the random process faults: called once the cluster is up, while the workload
   * runs; the fault phase lasts until both it and the trigger loop are done. Used by the
   * database failover tests, whose fault is the database itself.
   */
  faultPlan?: (ctx: { db: Database; log: Logger }) => Promise<void>;
}

export interface ChaosResult {
  report: ChaosReport;
  /** Largest gap between two heartbeats of any component that was not frozen (false-positive margin). */
  maxHeartbeatGapMs: number | null;
  options: Omit<ChaosOptions, 'log' | 'databaseUrl'>;
  faults: Fault[];
  settled: boolean;
}

/** Longest fault phase `keel chaos` accepts: a soak is hours, never unbounded. */
export const CHAOS_MAX_DURATION_SEC = 24 * 3600;

const KEEL_BIN = fileURLToPath(new URL('../../../bin/keel.js', import.meta.url));
const CHAOS_DAGS = fileURLToPath(new URL('./dags/', import.meta.url));
const BASE_DAG_IDS = ['chaos_fanout', 'chaos_chain', 'chaos_mixed'];
const DEFERRED_DAG_ID = 'chaos_deferred';
/** Sensors built by d.sensor() keep no ledger of their own. */
const UNRECORDED_TASKS = ['poke'];
/** How often the workload looks for a DAG that turned inactive. */
const FLAP_CHECK_MS = 300;

/** Small deterministic PRNG (mulberry32), so a seed reproduces the fault schedule. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Member {
  role: 'scheduler' | 'worker' | 'dag-processor' | 'triggerer';
  child: ChildProcess;
  name: string;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  if (!(opts.durationSec > 0 && opts.durationSec <= CHAOS_MAX_DURATION_SEC)) throw new Error(`chaos: durationSec must be from 0 to ${CHAOS_MAX_DURATION_SEC}, got ${opts.durationSec}`);
  const random = prng(opts.seed);
  const log = opts.log;
  let url = opts.databaseUrl;
  let stopServer = async () => {};
  let dataDir: string | null = null;
  if (!url) {
    dataDir = mkdtempSync(join(tmpdir(), 'keel-chaos-'));
    const server = await startEmbedded({ dataDir, port: await freePort(), durable: true });
    url = server.url;
    stopServer = server.stop;
  }
  const db: Database = new Database(url, { size: 4, applicationName: 'keel-chaos' });
  const members: Member[] = [];
  const faults: Fault[] = [];
  const acked: AckedRun[] = [];
  const flaps: Flap[] = [];
  const triggerers = opts.triggerers ?? 0;
  const processors = opts.dagProcessors ?? 1;
  const DAG_IDS = triggerers > 0 ? [...BASE_DAG_IDS, DEFERRED_DAG_ID] : BASE_DAG_IDS;
  // Interrupted (Ctrl-C, a CI timeout): no member may outlive the harness.
  const onInterrupt = (signal: NodeJS.Signals) => {
    for (const m of members) m.child.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    await migrate(db);
    await db.query(sql('chaos/history_create'));
    await db.query(sql('chaos/pool_widen'));

    const env = {
      ...process.env,
      KEEL_DATABASE_URL: opts.processDatabaseUrl ?? url,
      ...(opts.processSessionDatabaseUrl ? { KEEL_SESSION_DATABASE_URL: opts.processSessionDatabaseUrl } : {}),
      KEEL_DAGS_FOLDER: CHAOS_DAGS,
      // The ledger's address reaches the chaos tasks through the task environment allow-list.
      CHAOS_HISTORY_URL: url,
      KEEL_TASK_ENV_ALLOW: 'CHAOS_HISTORY_URL',
      KEEL_ATTEMPT_LEASE_SEC: String(opts.leaseSec),
      // Triggers and DAG files held by a frozen process move when the same lease expires.
      KEEL_TRIGGER_LEASE_SEC: String(opts.leaseSec),
      KEEL_DAG_FILE_LEASE_SEC: String(opts.leaseSec),
      KEEL_TRIGGERER_POLL_MS: '250',
      KEEL_DB_OUTAGE_GRACE_SEC: String(opts.outageGraceSec ?? 0),
      KEEL_LOG_FORMAT: 'json',
      KEEL_LOG_LEVEL: 'warn',
      KEEL_WORKER_CONCURRENCY: '4',
      KEEL_SCHEDULER_LOOP_MS: '500',
      KEEL_WORKER_SHUTDOWN_GRACE_SEC: '5',
    };
    let counter = 0;
    const spawnMember = (role: Member['role']): Member => {
      const child = spawn(process.execPath, [KEEL_BIN, role], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      // The members log (JSON, warnings and worse) to stdout; both streams reach the harness's debug log.
      for (const stream of [child.stdout, child.stderr]) stream?.on('data', (c: Buffer) => log.debug({ role, pid: child.pid }, c.toString().trim()));
      const m = { role, child, name: `${role}-${++counter}` };
      members.push(m);
      return m;
    };
    for (let i = 0; i < processors; i++) spawnMember('dag-processor');
    for (let i = 0; i < opts.schedulers; i++) spawnMember('scheduler');
    for (let i = 0; i < opts.workers; i++) spawnMember('worker');
    for (let i = 0; i < triggerers; i++) spawnMember('triggerer');
    await waitUntil(async () => (await db.query(sql('chaos/dags_active_count'), [DAG_IDS])).rows[0].n === DAG_IDS.length, 120_000, 'chaos DAGs to load');
    await waitUntil(async () => (await db.query(sql('chaos/components_running_count'))).rows[0].n >= members.length, 120_000, 'every process to register');
    log.info({ members: members.map((m) => m.name) }, 'chaos cluster up');

    const end = Date.now() + opts.durationSec * 1000;
    const approvals: Promise<void>[] = [];
    const triggering = (async () => {
      while (Date.now() < end && acked.length < opts.maxRuns) {
        const dagId = DAG_IDS[Math.floor(random() * DAG_IDS.length)]!;
        try {
          const run = await triggerDag(db, dagId, { params: { seed: Math.floor(random() * 1e6) } });
          acked.push({ runDbId: run.id, dagId });
          if (dagId === DEFERRED_DAG_ID) approvals.push(approveLater(db, run.runId, 500 + random() * 4000, log));
        } catch (err) {
          log.warn({ err }, 'trigger failed (not acknowledged)');
        }
        await sleep(opts.triggerEverySec * 1000 * (0.5 + random()));
      }
    })();
    // No DAG may turn inactive while processors die: the workload keeps looking.
    let watching = true;
    const watchingFlaps = (async () => {
      while (watching) {
        const inactive = await db.query<{ dag_id: string }>(sql('chaos/dags_inactive'), [DAG_IDS]).catch(() => ({ rows: [] }));
        for (const r of inactive.rows) flaps.push({ dagId: r.dag_id, at: new Date() });
        await sleep(FLAP_CHECK_MS);
      }
    })();

    const faulting = opts.faultPlan ? opts.faultPlan({ db, log }) : (async () => {
      await sleep(2000);
      // Until a worker has been killed while it held attempts, the next fault is such a kill
      // when a busy worker exists: with random roles alone, a short run could miss the
      // takeover it exists to check (5 kills in one CI run hit none).
      let busyWorkerKilled = false;
      while (Date.now() < end - 2000) {
        await sleep(opts.faultEverySec * 1000 * (0.5 + random()));
        const busyWorker = busyWorkerKilled ? null : await firstBusyWorker(db, members);
        const role = busyWorker ? 'worker' : pickRole(random(), triggerers > 0, processors > 1);
        const candidates = members.filter((m) => m.role === role && m.child.exitCode === null && m.child.signalCode === null);
        const victim = busyWorker?.member ?? candidates[Math.floor(random() * candidates.length)];
        if (!victim) continue;
        const componentId = busyWorker?.componentId ?? await componentOf(db, victim.child.pid!);
        const running = componentId ? await runningAttemptsOf(db, componentId) : [];
        if (!busyWorker && random() < opts.freezeShare) {
          const at = new Date();
          victim.child.kill('SIGSTOP');
          const frozenMs = (opts.leaseSec + 2) * 1000;
          log.info({ victim: victim.name, frozenMs }, 'chaos: freeze');
          await sleep(frozenMs);
          victim.child.kill('SIGCONT');
          faults.push({ kind: 'freeze', role: victim.role, componentId, at, until: new Date(), runningAttempts: running });
        } else {
          const at = new Date();
          victim.child.kill('SIGKILL');
          if (victim.role === 'worker' && running.length > 0) busyWorkerKilled = true;
          faults.push({ kind: 'kill', role: victim.role, componentId, at, runningAttempts: running });
          log.info({ victim: victim.name, held: running.length }, 'chaos: kill -9');
          await sleep(500 + random() * 1500);
          members.splice(members.indexOf(victim), 1);
          spawnMember(victim.role);
        }
      }
    })();
    await Promise.all([triggering, faulting, ...approvals]);

    log.info({ runs: acked.length }, 'chaos: fault phase over; waiting for every run to finish');
    const settled = await waitUntil(async () => (await db.query(sql('chaos/runs_unfinished_count'))).rows[0].n === 0, opts.settleTimeoutSec * 1000, 'runs to finish', false);
    watching = false;
    await watchingFlaps;

    const [runs, tis, attempts, history, late, fenced, triggerRows, takeovers] = await Promise.all([
      db.query(sql('chaos/runs')),
      db.query(sql('chaos/task_instances')),
      db.query(sql('chaos/attempts')),
      db.query(sql('chaos/history')),
      db.query(sql('chaos/late_writes_count')),
      db.query<{ attemptId: string; at: Date }>(sql('chaos/zombies_fenced')),
      db.query(sql('chaos/triggers')),
      db.query<{ at: Date; from: string[] }>(sql('chaos/triggers_taken_over')),
    ]);
    const report = checkChaos({
      acked, runs: runs.rows, taskInstances: tis.rows, attempts: attempts.rows, history: history.rows,
      lateWritesRejected: late.rows[0].n, faults, fenced: fenced.rows,
      triggers: triggerRows.rows, takeovers: takeovers.rows, flaps, unrecordedTasks: UNRECORDED_TASKS,
    });
    const frozen = faults.filter((f) => f.kind === 'freeze').map((f) => f.componentId).filter((id): id is string => id !== null);
    const gap = await db.query<{ gap: number | null }>(sql('chaos/max_heartbeat_gap'), [frozen]);
    if (!settled) report.violations.unshift(`runs still unfinished ${opts.settleTimeoutSec}s after the fault phase`);
    const { log: _log, databaseUrl: _url, ...shown } = opts;
    return { report, maxHeartbeatGapMs: gap.rows[0]?.gap ?? null, options: shown, faults, settled };
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGCONT');
    await Promise.all(members.map((m) => stopChild(m.child)));
    await db.close();
    await stopServer();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Which role a fault hits: workers hold attempts, so they are hit most. */
function pickRole(r: number, withTriggerers: boolean, withProcessors: boolean): Member['role'] {
  const weights: [Member['role'], number][] = [['worker', 0.5], ['scheduler', 0.25]];
  if (withTriggerers) weights.push(['triggerer', 0.2]);
  if (withProcessors) weights.push(['dag-processor', 0.15]);
  let x = r * weights.reduce((sum, [, w]) => sum + w, 0);
  for (const [role, w] of weights) if ((x -= w) < 0) return role;
  return 'worker';
}

async function runningAttemptsOf(db: Database, componentId: string): Promise<string[]> {
  return (await db.query<{ attempt_id: string }>(sql('chaos/running_attempts_of'), [componentId])).rows.map((r) => r.attempt_id);
}

/** A live worker that holds running attempts now, if any. */
async function firstBusyWorker(db: Database, members: Member[]): Promise<{ member: Member; componentId: string } | null> {
  for (const member of members.filter((m) => m.role === 'worker' && m.child.exitCode === null && m.child.signalCode === null)) {
    const componentId = await componentOf(db, member.child.pid!);
    if (componentId && (await runningAttemptsOf(db, componentId)).length > 0) return { member, componentId };
  }
  return null;
}

/** The approval of a chaos_deferred run arrives a while after its trigger, retried until acknowledged. */
async function approveLater(db: Database, runId: string, delayMs: number, log: Logger): Promise<void> {
  await sleep(delayMs);
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await postExternalEvent(db, approvalKey(runId), { approved: true }, `approval-${runId}`);
      return;
    } catch (err) {
      log.warn({ err }, 'approval post failed; retrying with the same event id');
      await sleep(500);
    }
  }
}

async function componentOf(db: Database, pid: number): Promise<string | null> {
  const r = await db.query<{ id: string }>(sql('chaos/component_of_pid'), [pid]);
  return r.rows[0]?.id ?? null;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, throwOnTimeout = true): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(250);
  }
  if (throwOnTimeout) throw new Error(`chaos: timed out waiting for ${what}`);
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
