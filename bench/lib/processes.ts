// Keel roles as real processes for the benches (`node bin/keel.js <role>`): started with a
// clean KEEL_* environment, stopped with SIGKILL (after SIGCONT, in case a bench froze one),
// and found in the component table by pid. KEEL_BENCH_HA_LOG=<folder> keeps their logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../../src/db/database.js';
import { REPO_ROOT } from './cluster.js';
import { waitFor } from './stats.js';

const KEEL_BIN = join(REPO_ROOT, 'bin', 'keel.js');

export interface Proc { role: string; child: ChildProcess; exited: Promise<void> }

export function startProc(role: string, url: string, dags: string, extra: Record<string, string> = {}): Proc {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEEL_')));
  Object.assign(env, {
    KEEL_DATABASE_URL: url, KEEL_DAGS_FOLDER: dags, KEEL_LOG_FORMAT: 'json', KEEL_LOG_LEVEL: 'warn',
    KEEL_DB_OUTAGE_GRACE_SEC: '0', ...extra,
  });
  const log = process.env.KEEL_BENCH_HA_LOG ? openSync(join(process.env.KEEL_BENCH_HA_LOG, `${role}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.log`), 'a') : 'ignore';
  const child = spawn(process.execPath, [KEEL_BIN, role], { env, stdio: ['ignore', log, log] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { role, child, exited };
}

export async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
  }
  await Promise.all(procs.map((p) => p.exited));
}

/** The component id a process registered under. */
export async function componentOf(db: Database, pid: number): Promise<string> {
  return waitFor(`process ${pid} to register`, async () =>
    (await db.query<{ id: string }>(`SELECT id FROM component WHERE pid = $1 AND state = 'running'`, [pid])).rows[0]?.id, 60_000);
}

/** Waits until these DAGs are stored and active. */
export async function ready(db: Database, dagIds: string[]): Promise<void> {
  await waitFor('DAGs to load', async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dag WHERE dag_id = ANY ($1) AND is_active`, [dagIds])).rows[0]!.n === dagIds.length, 60_000);
}
