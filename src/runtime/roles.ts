// Starting and stopping Keel's roles inside one process. `keel <role>` runs one of them;
// `keel standalone` runs them all on the embedded database.
import type { KeelOptions } from '../config/options.js';
import { migrate, assertSchemaCurrent } from '../db/migrate.js';
import { Listener } from '../db/listener.js';
import { Component, type Role } from '../ha/component.js';
import type { Logger } from '../log.js';
import { Wakeup } from '../loop.js';
import { DagProcessor } from '../dag-processor/processor.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { Worker } from '../worker/worker.js';
import { openDatabase, type Database } from './database.js';

export interface RunningRole {
  stop(): Promise<void>;
}

const HEARTBEAT_MS = 1000;

function startSchedulerLoop(database: Database, options: KeelOptions, component: Component, log: Logger): RunningRole {
  const scheduler = new Scheduler(database.db, { batchSize: options.schedulerBatchSize, maxCatchupRunsPerLoop: options.maxCatchupRunsPerLoop, componentId: component.id }, log);
  const wakeup = new Wakeup();
  const hinted = new Set<string>();
  const listener = new Listener(database.url, ['keel_scheduler'], (_ch, payload) => {
    if (payload) hinted.add(payload);
    wakeup.wake();
  }, log);
  let stopping = false;
  const done = (async () => {
    await listener.start();
    while (!stopping) {
      const hints = [...hinted];
      hinted.clear();
      try {
        const stats = await scheduler.tick(hints);
        if (Scheduler.progressed(stats)) continue;
      } catch (err) {
        // A failed turn never ends the loop; the next turn retries from the database state.
        log.error({ err: (err as Error).message }, 'scheduler turn failed');
      }
      await wakeup.wait(options.schedulerLoopMs);
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      wakeup.wake();
      await done;
      await listener.stop();
    },
  };
}

/** With firstScanFirst, the first scan completes before this returns (standalone: DAGs are known before the first scheduler turn). */
async function startProcessorLoop(database: Database, options: KeelOptions, log: Logger, firstScanFirst: boolean): Promise<RunningRole> {
  const processor = new DagProcessor(database.db, options, log);
  const wakeup = new Wakeup();
  let stopping = false;
  if (firstScanFirst) await processor.scan();
  const done = (async () => {
    if (firstScanFirst) await wakeup.wait(options.dagScanIntervalSec * 1000);
    while (!stopping) {
      try {
        await processor.scan();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'DAG folder scan failed');
      }
      await wakeup.wait(options.dagScanIntervalSec * 1000);
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

async function startWorker(database: Database, options: KeelOptions, component: Component, log: Logger): Promise<RunningRole> {
  const worker = new Worker(database.db, {
    componentId: component.id, dagsFolder: options.dagsFolder, concurrency: options.workerConcurrency, queues: options.workerQueues,
    pollMs: options.workerPollMs, leaseSec: options.attemptLeaseSec, shutdownGraceSec: options.workerShutdownGraceSec,
    runnerMemoryMb: options.runnerMemoryMb, runnerMaxTasks: options.runnerMaxTasks,
    taskResultMaxBytes: options.taskResultMaxBytes, taskLogMaxBytes: options.taskLogMaxBytes,
  }, log);
  const listener = new Listener(database.url, ['keel_queued'], (_ch, queue) => {
    if (options.workerQueues.includes(queue)) worker.wakeup.wake();
  }, log);
  await listener.start();
  await worker.start();
  return {
    stop: async () => {
      await worker.stop();
      await listener.stop();
    },
  };
}

export type RoleName = 'scheduler' | 'worker' | 'dag-processor' | 'standalone';

/** Opens the database, registers the component and starts the role's loops. */
export async function startRole(role: RoleName, options: KeelOptions, log: Logger): Promise<RunningRole> {
  const database = await openDatabase(options, log, role);
  try {
    if (role === 'standalone' || role === 'dag-processor') await migrate(database.db);
    else await assertSchemaCurrent(database.db);
  } catch (err) {
    await database.close();
    throw err;
  }
  const component = new Component(database.db, role as Role, log);
  await component.register();
  component.startHeartbeat(HEARTBEAT_MS);
  const parts: RunningRole[] = [];
  if (role === 'dag-processor' || role === 'standalone') {
    parts.push(await startProcessorLoop(database, options, log, role === 'standalone'));
  }
  if (role === 'scheduler' || role === 'standalone') parts.push(startSchedulerLoop(database, options, component, log));
  if (role === 'worker' || role === 'standalone') parts.push(await startWorker(database, options, component, log));
  log.info({ role, component: component.id, database: database.embedded ? `embedded (${database.embedded.dataDir})` : 'external' }, `keel ${role} running`);
  return {
    stop: async () => {
      // Workers first (they drain), then the loops that schedule around them.
      for (const p of [...parts].reverse()) await p.stop();
      await component.deregister();
      await database.close();
    },
  };
}
