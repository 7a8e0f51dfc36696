// Keel roles started inside the test process against a test database.
import { loadOptions } from '../../src/config/load.js';
import type { KeelOptions, OptionName } from '../../src/config/options.js';
import type { Database } from '../../src/db/database.js';
import { createLogger } from '../../src/log.js';
import { after, before } from 'node:test';
import { startRole, type RoleName, type RunningRole } from '../../src/runtime/roles.js';
import { freshDatabase, type TestDatabase } from './db.js';
import { directUrlFor } from './db-url.js';

export function testOptions(url: string, dagsFolder: string, extra: Partial<Record<OptionName, unknown>> = {}): KeelOptions {
  return loadOptions({
    env: {},
    noConfigFile: true,
    overrides: {
      // Through PgBouncer (CI's second pass), sessions and LISTEN need the direct server.
      ...(directUrlFor(url) !== url ? { sessionDatabaseUrl: directUrlFor(url) } : {}),
      databaseUrl: url, dagsFolder, schedulerLoopMs: 200, workerPollMs: 200, dagScanIntervalSec: 1,
      workerConcurrency: 4, dbConnectRetrySec: 5, logFormat: 'json', logLevel: process.env.KEEL_TEST_LOG ?? 'silent',
      // The test server was just started: without this, nothing would be fenced for the grace period.
      dbOutageGraceSec: 0,
      ...extra,
    },
  });
}

export const testLog = () => createLogger({ level: process.env.KEEL_TEST_LOG ?? 'silent', format: 'json' });

export interface TestCluster {
  roles: RunningRole[];
  /** The first started role of that name. */
  role(name: RoleName): RunningRole;
  stop(): Promise<void>;
}

export async function startRoles(options: KeelOptions, roles: RoleName[]): Promise<TestCluster> {
  const running: RunningRole[] = [];
  for (const role of roles) running.push(await startRole(role, options, testLog()));
  return {
    roles: running,
    role: (name) => {
      const i = roles.indexOf(name);
      if (i < 0) throw new Error(`no ${name} was started (roles: ${roles.join(', ')})`);
      return running[i]!;
    },
    stop: async () => { for (const r of [...running].reverse()) await r.stop(); },
  };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 20000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function waitForRunEnd(db: Database, runId: string, timeoutMs = 30000): Promise<'success' | 'failed'> {
  return waitFor(`run ${runId} to finish`, async () => {
    const r = await db.query<{ state: string }>('SELECT state FROM dag_run WHERE id = $1', [runId]);
    const s = r.rows[0]?.state;
    return s === 'success' || s === 'failed' ? s : null;
  }, timeoutMs);
}

export async function taskStates(db: Database, runId: string): Promise<Record<string, string>> {
  const r = await db.query<{ task_id: string; state: string }>('SELECT task_id, state FROM task_instance WHERE dag_run_id = $1', [runId]);
  return Object.fromEntries(r.rows.map((x) => [x.task_id, x.state]));
}

export async function waitForDag(db: Database, dagId: string, timeoutMs = 20000): Promise<void> {
  await waitFor(`DAG ${dagId} to be stored`, async () => (await db.query('SELECT 1 FROM dag WHERE dag_id = $1 AND is_active', [dagId])).rowCount, timeoutMs);
}

/** A test file's own database and in-process cluster: made before its tests, removed after. */
export interface FileCluster {
  readonly db: TestDatabase['db'];
  readonly url: string;
  readonly cluster: TestCluster;
}

/** Registers before/after hooks; `dagIds` are waited for before the first test. */
export function useCluster(dagsFolder: string, dagIds: string[], extra: Partial<Record<OptionName, unknown>> = {},
  roles: RoleName[] = ['dag-processor', 'scheduler', 'worker']): FileCluster {
  let t: TestDatabase | undefined;
  let cluster: TestCluster | undefined;
  before(async () => {
    t = await freshDatabase();
    cluster = await startRoles(testOptions(t.url, dagsFolder, extra), roles);
    for (const id of dagIds) await waitForDag(t.db, id);
  });
  after(async () => {
    await cluster?.stop();
    await t?.drop();
  });
  return {
    get db() { return t!.db; },
    get url() { return t!.url; },
    get cluster() { return cluster!; },
  };
}
