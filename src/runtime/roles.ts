// Starting and stopping Keel's roles inside one process. `keel <role>` runs one of them;
// `keel standalone` runs them all on the embedded database.
import { join, resolve } from 'node:path';
import type { KeelOptions } from '../config/options.js';
import { migrate, assertSchemaCurrent } from '../db/migrate.js';
import { Listener } from '../db/listener.js';
import { ComponentSession, type Role } from '../ha/session.js';
import { startHealthServer } from '../observability/health-server.js';
import { KeelMetrics } from '../observability/metrics.js';
import type { Logger } from '../log.js';
import { Wakeup } from '../loop.js';
import { DagProcessor } from '../dag-processor/processor.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { Worker } from '../worker/worker.js';
import { Triggerer } from '../triggerer/triggerer.js';
import { openDatabase } from './database.js';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { startApi } from '../api/start.js';
import { secretKeyOf } from '../secrets/secret-key.js';

export interface RunningRole {
  stop(): Promise<void>;
  /** The component id registered for this process (standalone registers one for all roles). */
  readonly componentId: string;
  /** Port of the health server, when one was asked for. */
  readonly healthPort: number | null;
  /** Port of the API server (roles api and standalone). */
  readonly apiPort: number | null;
  /** A second Ctrl-C: no drain, but the embedded PostgreSQL this process runs is stopped all the same. */
  stopNow(): Promise<void>;
}

interface Part {
  stop(): Promise<void>;
  /** What stopping it waits for, printed when the drain gets to it. */
  readonly drains?: string;
}

/** A loop that runs `turn` until stopped: again at once when it made progress, else after `idleMs` or a wake-up. */
function runLoop(name: string, turn: () => Promise<boolean>, idleMs: number, wakeup: Wakeup, log: Logger): Part {
  let stopping = false;
  const done = (async () => {
    while (!stopping) {
      try {
        if (await turn()) continue;
      } catch (err) {
        // A failed turn never ends the loop; the next turn starts again from the database state.
        log.error({ err }, `${name} turn failed`);
      }
      await wakeup.wait(idleMs);
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      wakeup.wake();
      await done;
    },
  };
}

/** Wakes a loop the moment this process reaches the database again after losing it, not at its next poll. */
function wakeWhenDatabaseBack(database: Database, wakeup: Wakeup): Part {
  const unsubscribe = database.availabilities.map((a) => a.onBack(() => wakeup.wake()));
  return { stop: async () => { for (const off of unsubscribe) off(); } };
}

/** A scheduler that lost a race (the queueing budget, a hinted run) looks again this soon: the winner may have missed the news. */
const CONTENDED_RETRY_MS = 20;

/** Lost lock races are counted in metrics and summed into one HA event a minute, not one per race. */
const CONTENTION_EVENT_EVERY_MS = 60_000;

function startScheduler(database: Database, options: KeelOptions, session: ComponentSession, metrics: KeelMetrics, log: Logger): Part[] {
  const contention: Record<string, number> = {};
  const scheduler = new Scheduler(database, {
    batchSize: options.schedulerBatchSize, maxCatchupRunsPerLoop: options.maxCatchupRunsPerLoop, componentId: session.id,
    dbOutageGraceSec: options.dbOutageGraceSec, workerLostAfterSec: options.workerLostAfterSec, componentDeadAfterSec: options.componentDeadAfterSec,
    periodicMs: options.schedulerLoopMs,
    onContention: (lock) => {
      metrics.lockContention.inc({ lock });
      contention[lock] = (contention[lock] ?? 0) + 1;
    },
  }, log);
  const contentionTimer = setInterval(() => {
    if (Object.keys(contention).length === 0) return;
    const details = { ...contention, perSeconds: CONTENTION_EVENT_EVERY_MS / 1000 };
    for (const k of Object.keys(contention)) delete contention[k];
    database.query(sql('ha/ha_event_insert'), ['lock_contention', session.id, details])
      .catch((err) => log.warn({ err }, 'could not record lock contention'));
  }, CONTENTION_EVENT_EVERY_MS);
  contentionTimer.unref();
  const wakeup = new Wakeup();
  const hinted = new Set<string>();
  const listener = new Listener(database, ['keel_scheduler'], (_ch, payload) => {
    if (payload) hinted.add(payload);
    wakeup.wake();
  }, log);
  void listener.start();
  const main = runLoop('scheduler', async () => {
    if (session.unfitReason) return false; // on a server that is not the primary: decide nothing
    const hints = [...hinted];
    hinted.clear();
    const end = metrics.loopSeconds.startTimer({ role: 'scheduler' });
    const stats = await scheduler.tick(hints);
    end();
    session.loopTurned();
    for (const id of stats.skippedHints) hinted.add(id);
    if (stats.queueContended || stats.skippedHints.length) setTimeout(() => wakeup.wake(), CONTENDED_RETRY_MS).unref();
    return Scheduler.progressed(stats);
  }, options.schedulerLoopMs, wakeup, log);
  // Dead workers are looked for more often than the main loop turns: it is one cheap statement
  // (src/fencing/sweeps.ts, rule "orphan fencing" in src/fencing/INVARIANTS.md).
  const sweepWakeup = new Wakeup();
  const sweep = runLoop('orphan sweep', async () => {
    if (session.unfitReason) return false;
    if ((await scheduler.fenceOrphanedAttempts()) > 0) wakeup.wake();
    return false;
  }, options.orphanSweepMs, sweepWakeup, log);
  return [sweep, main, wakeWhenDatabaseBack(database, wakeup), wakeWhenDatabaseBack(database, sweepWakeup), { stop: async () => { clearInterval(contentionTimer); await listener.stop(); } }];
}

/** A change seen by the folder watcher is scanned after this pause, so that a file written in several steps is read once. */
const WATCH_SETTLE_MS = 100;

/** With firstScanFirst, the first scan completes before this returns (standalone: DAGs are known before the first scheduler turn). */
async function startProcessor(database: Database, options: KeelOptions, session: ComponentSession, metrics: KeelMetrics, log: Logger, firstScanFirst: boolean): Promise<Part> {
  const processor = new DagProcessor(database, {
    dagsFolder: options.dagsFolder, dagFileTimeoutSec: options.dagFileTimeoutSec, dagReparseIntervalSec: options.dagReparseIntervalSec,
    componentId: session.id, dagFileLeaseSec: options.dagFileLeaseSec, dagProcessorLostAfterSec: options.dagProcessorLostAfterSec,
    componentDeadAfterSec: options.componentDeadAfterSec, dbOutageGraceSec: options.dbOutageGraceSec, dagParseConcurrency: options.dagParseConcurrency,
    taskEnvAllow: options.taskEnvAllow, dagBundleMaxBytes: options.dagBundleMaxBytes,
    onParsed: (_file, seconds, ok) => {
      metrics.parseSeconds.observe({ outcome: ok ? 'loaded' : 'failed' }, seconds);
      session.loopTurned();
    },
    // A scan waiting on a slow file (up to dagFileTimeoutSec) is not a stuck process.
    onTick: () => session.loopTurned(),
  }, log);
  const previous = session.details;
  session.details = () => ({ ...previous(), ...processor.details() });
  metrics.fileLeases = () => processor.heldCount;
  const wakeup = new Wakeup();
  let settle: NodeJS.Timeout | null = null;
  processor.start(() => {
    settle ??= setTimeout(() => { settle = null; wakeup.wake(); }, WATCH_SETTLE_MS);
  });
  if (firstScanFirst) await processor.scan();
  let first = firstScanFirst;
  const loop = runLoop('DAG processor', async () => {
    if (first) first = false;
    else await processor.scan();
    session.loopTurned();
    return false;
  }, options.dagScanIntervalSec * 1000, wakeup, log);
  return {
    drains: 'the DAG processor: the file it is loading, then its file leases are given back',
    stop: async () => {
      processor.stopSoon();
      if (settle) clearTimeout(settle);
      await loop.stop();
      await processor.stop();
    },
  };
}

async function startWorker(database: Database, options: KeelOptions, session: ComponentSession, metrics: KeelMetrics, log: Logger): Promise<Part> {
  const worker = new Worker(database, {
    componentId: session.id, dagsFolder: options.dagsFolder, concurrency: options.workerConcurrency, queues: options.workerQueues,
    pollMs: options.workerPollMs, leaseSec: options.attemptLeaseSec, shutdownGraceSec: options.workerShutdownGraceSec,
    runnerMemoryMb: options.runnerMemoryMb, runnerMaxTasks: options.runnerMaxTasks, runnerSpares: options.runnerSpares, taskEnvAllow: options.taskEnvAllow,
    secretKey: secretKeyOf(options), bundleCacheDir: join(resolve(options.dataDir), 'bundles'),
    taskResultMaxBytes: options.taskResultMaxBytes, taskLogMaxBytes: options.taskLogMaxBytes, callbackTimeoutSec: options.callbackTimeoutSec,
    queueBatchSize: options.schedulerBatchSize,
    onLoopTurn: () => session.loopTurned(),
    onClaimed: (queue, waitedSec) => metrics.queueWaitSeconds.observe({ queue }, waitedSec),
    unfit: () => session.unfitReason !== null,
  }, log);
  const previous = session.details;
  session.details = () => ({ ...previous(), runningAttempts: worker.attemptIds(), capacity: options.workerConcurrency, queues: options.workerQueues });
  session.onFitness = (reason) => { if (reason) worker.wakeup.wake(); }; // unfit: fence running attempts now
  const listener = new Listener(database, ['keel_queued'], (_ch, queue) => {
    if (options.workerQueues.includes(queue)) worker.wakeup.wake();
  }, log);
  await listener.start();
  await worker.start();
  const wakeOnReturn = wakeWhenDatabaseBack(database, worker.wakeup);
  return {
    drains: 'the worker: running tasks finish (or are handed back after workerShutdownGraceSec)',
    stop: async () => {
      await wakeOnReturn.stop();
      await worker.stop();
      await listener.stop();
    },
  };
}

async function startTriggerer(database: Database, options: KeelOptions, session: ComponentSession, metrics: KeelMetrics, log: Logger): Promise<Part> {
  const triggerer = new Triggerer(database, {
    componentId: session.id, dagsFolder: options.dagsFolder, capacity: options.triggererCapacity, leaseSec: options.triggerLeaseSec,
    lostAfterSec: options.triggererLostAfterSec, pollMs: options.triggererPollMs, taskEnvAllow: options.taskEnvAllow,
    onLoopTurn: () => session.loopTurned(),
    unfit: () => session.unfitReason !== null,
    onFired: (kind, outcome, waitedSec) => {
      metrics.triggersFired.inc({ kind, outcome });
      if (outcome === 'resumed') metrics.triggerWaitSeconds.observe({ kind }, waitedSec);
    },
  }, log);
  const previous = session.details;
  session.details = () => ({ ...previous(), ...triggerer.details() });
  metrics.triggers = () => ({ held: triggerer.heldCount, capacity: options.triggererCapacity });
  const listener = new Listener(database, ['keel_triggerer'], (_ch, payload) => {
    if (payload.startsWith('external:')) triggerer.externalEventPosted(payload.slice('external:'.length));
    else triggerer.deferralAnnounced();
  }, log);
  await listener.start();
  triggerer.start();
  const wakeOnReturn = wakeWhenDatabaseBack(database, triggerer.wakeup);
  return {
    drains: 'the triggerer: its triggers are handed back',
    stop: async () => {
      await wakeOnReturn.stop();
      await triggerer.stop();
      await listener.stop();
    },
  };
}

export type RoleName = 'scheduler' | 'worker' | 'dag-processor' | 'triggerer' | 'standalone' | 'api';

/** Opens the database, registers the component and starts the role's loops. */
export async function startRole(role: RoleName, options: KeelOptions, log: Logger): Promise<RunningRole> {
  // Only standalone (the quick start) creates the embedded database; every long-running role adopts an orphaned server.
  const database = await openDatabase(options, log, role, { create: role === 'standalone', adoptOrphan: true });
  try {
    if (role === 'standalone' || role === 'dag-processor') await migrate(database);
    else await assertSchemaCurrent(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  const session = new ComponentSession(database, role as Role, {
    heartbeatMs: options.heartbeatMs, queryTimeoutMs: options.dbQueryTimeoutMs, connectTimeoutMs: options.dbConnectTimeoutMs,
    keepAliveIdleMs: options.dbKeepaliveIdleMs, primaryCheckMs: options.dbPrimaryCheckMs,
  }, log);
  // The failure domain `keel ha audit` counts copies by; every role adds what it holds to these.
  session.details = () => ({ node: options.nodeName ?? session.host, ...(options.zone ? { zone: options.zone } : {}) });
  await session.start();
  const metrics = new KeelMetrics(database, { expectedCopies: options.expectedCopies, flapWindowSec: options.flapWindowSec, flapThreshold: options.flapThreshold });
  metrics.primaryCheck = () => session.lastPrimaryCheck;
  metrics.loopTurns = () => ({ role, turns: session.loopTurns });
  const parts: Part[] = [];
  if (role === 'dag-processor' || role === 'standalone') parts.push(await startProcessor(database, options, session, metrics, log, role === 'standalone'));
  if (role === 'scheduler' || role === 'standalone') parts.push(...startScheduler(database, options, session, metrics, log));
  if (role === 'worker' || role === 'standalone') parts.push(await startWorker(database, options, session, metrics, log));
  if (role === 'triggerer' || role === 'standalone') parts.push(await startTriggerer(database, options, session, metrics, log));
  const api = role === 'api' || role === 'standalone' ? await startApi(database, options, metrics, log, role === 'api' ? options.apiDrainSec : 0) : null;
  if (api) parts.unshift(api); // stopped last of the parts: the UI shows the drain to the end
  const health = options.healthPort === undefined ? null : await startHealthServer({ host: options.healthHost, port: options.healthPort, session, metrics, access: options, log });
  const address = health?.server.address();
  log.info({ role, componentId: session.id, database: database.embedded ? `embedded (${database.embedded.dataDir})` : 'external' }, `keel ${role} running`);
  return {
    componentId: session.id,
    healthPort: address && typeof address === 'object' ? address.port : null,
    apiPort: api?.port ?? null,
    stopNow: async () => { await database.embedded?.stop(); },
    stop: async () => {
      session.beginStopping();
      // Workers first (they drain), then the loops that schedule around them.
      for (const p of [...parts].reverse()) {
        if (p.drains) log.info(`stopping ${p.drains}`);
        await p.stop();
      }
      await health?.close();
      await session.stop();
      if (database.embedded) log.info('stopping the embedded PostgreSQL');
      await database.close();
    },
  };
}
