// The bench's PostgreSQL: an embedded server with durability ON (fsync, synchronous_commit,
// full_page_writes as in production) in a temp folder on a free loopback port, or the
// server at KEEL_BENCH_DATABASE_URL. One fresh, migrated database per scenario.
// pg_stat_statements and pg_stat_wal, when available, say where the database time goes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { Database } from '../../src/db/database.js';

export interface BenchServer {
  kind: 'embedded' | 'external';
  /** URL of the maintenance database (`postgres`): used to create and drop databases. */
  adminUrl: string;
  /** Embedded only: the postmaster's pid, for CPU accounting of the whole server. */
  postmasterPid: number | null;
  pgss: boolean;
  settings: Record<string, string>;
  stop(): Promise<void>;
}

import { withDatabase } from '../../src/db/url.js';

export { withDatabase };

import { freePort } from '../../src/free-port.js';
import { queryNames, queryText } from '../../tools/query-files.js';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'keel-bench-admin' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

const SETTINGS = ['server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections', 'shared_preload_libraries'];

async function readSettings(url: string): Promise<Record<string, string>> {
  return withClient(url, async (c) => {
    const r = await c.query<{ name: string; setting: string; unit: string | null }>('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [SETTINGS]);
    return Object.fromEntries(r.rows.map((x) => [x.name, x.unit && x.unit !== '' ? `${x.setting} (${x.unit})` : x.setting]));
  });
}

async function enablePgss(url: string): Promise<boolean> {
  try {
    return await withClient(url, async (c) => {
      await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await c.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
      return true;
    });
  } catch {
    return false;
  }
}

function postmasterPid(pgdata: string): number | null {
  try {
    const pid = Number(readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export async function startBenchServer(opts: { externalUrl?: string; pgss: boolean; log: (m: string) => void }): Promise<BenchServer> {
  if (opts.externalUrl) {
    const adminUrl = opts.externalUrl;
    const pgss = opts.pgss && (await enablePgss(adminUrl));
    return { kind: 'external', adminUrl, postmasterPid: null, pgss, settings: await readSettings(adminUrl), stop: async () => {} };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-bench-pg-'));
  const port = await freePort();
  let server: EmbeddedServer = await startEmbedded({ dataDir, port, durable: true });
  let pgss = false;
  if (opts.pgss) {
    try {
      // pg_stat_statements must be preloaded: set it, then restart once (about a second).
      await withClient(server.url, async (c) => {
        await c.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
        await c.query('ALTER SYSTEM SET track_wal_io_timing = on');
      });
      await server.stop();
      server = await startEmbedded({ dataDir, port, durable: true });
      pgss = await enablePgss(server.url);
    } catch (err) {
      opts.log(`pg_stat_statements unavailable (${(err as Error).message}); continuing without it`);
    }
  }
  const s = server;
  return {
    kind: 'embedded',
    adminUrl: s.url,
    postmasterPid: postmasterPid(s.dataDir),
    pgss,
    settings: await readSettings(s.url),
    stop: async () => {
      await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ScenarioDatabase {
  name: string;
  url: string;
  /** The bench's own pool on it (triggers, polling, analysis). */
  db: Database;
  drop(): Promise<void>;
}

/** A fresh database, migrated, with the default pool opened up so that pool slots never cap a scenario. */
export async function createScenarioDatabase(adminUrl: string, scenario: string): Promise<ScenarioDatabase> {
  const name = `keel_bench_${scenario}_${process.pid}_${Date.now().toString(36)}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = withDatabase(adminUrl, name);
  const db = new Database(url, { size: 10, applicationName: 'keel-bench' });
  await migrate(db);
  await db.query(`UPDATE pool SET slots = 100000 WHERE name = 'default_pool'`);
  return {
    name, url, db,
    drop: async () => {
      await db.close();
      await withClient(adminUrl, async (c) => {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
      });
    },
  };
}

// ---- where the database time goes -------------------------------------------------------

function normalize(q: string): string {
  return q.split('\n').filter((l) => !l.trim().startsWith('--')).join(' ').replace(/\s+/g, ' ').trim();
}

/** pg_stat_statements replaces constants by $n: compare with every literal and parameter blanked. */
function shape(q: string): string {
  return normalize(q).replace(/'(?:[^']|'')*'/g, '?').replace(/\$\d+/g, '?').replace(/\b\d+(?:\.\d+)?\b/g, '?').replace(/\b(?:null|true|false)\b/gi, '?');
}

let labels: Map<string, string> | null = null;
/** Keel's named statements (src/db/queries/<area>/<name>.sql) by normalized text, to label pg_stat_statements rows. */
function statementLabels(): Map<string, string> {
  if (labels) return labels;
  labels = new Map();
  for (const name of queryNames()) labels.set(shape(queryText(name)), name);
  return labels;
}

export function labelStatement(query: string): string {
  const n = normalize(query);
  const named = statementLabels().get(shape(query));
  if (named) return named;
  return n.length > 70 ? `${n.slice(0, 67)}...` : n;
}

export interface StatementStat {
  statement: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  /** Share of the database's total execution time in this scenario. */
  share: number;
}

/** Cluster-wide WAL counters. Backends publish them about once a second and when they exit,
 *  so the end snapshot is taken after the scenario's roles have stopped. */
export interface WalSnapshot {
  walSync: number;
  walSyncMs: number;
  walWrite: number;
  walBytes: number;
}

export async function walSnapshot(adminUrl: string): Promise<WalSnapshot | null> {
  return withClient(adminUrl, async (c) => {
    try {
      const w = await c.query<{ wal_sync: string; wal_sync_time: number; wal_write: string; wal_bytes: string }>('SELECT wal_sync::text, wal_sync_time, wal_write::text, wal_bytes::text FROM pg_stat_wal');
      const r = w.rows[0];
      return r ? { walSync: Number(r.wal_sync), walSyncMs: Number(r.wal_sync_time), walWrite: Number(r.wal_write), walBytes: Number(r.wal_bytes) } : null;
    } catch {
      return null; // before PostgreSQL 14
    }
  });
}

export function walDelta(a: WalSnapshot | null, b: WalSnapshot | null): WalSnapshot | null {
  if (!a || !b) return null;
  return { walSync: b.walSync - a.walSync, walSyncMs: Math.round(b.walSyncMs - a.walSyncMs), walWrite: b.walWrite - a.walWrite, walBytes: b.walBytes - a.walBytes };
}

export async function pgssReset(adminUrl: string, dbName: string): Promise<void> {
  await withClient(adminUrl, (c) => c.query('SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = $1), 0)', [dbName]));
}

/** Statements of one database by total execution time (COMMIT includes the WAL flush). */
export async function pgssTop(adminUrl: string, dbName: string, limit = 12): Promise<{ totalMs: number; calls: number; top: StatementStat[] }> {
  return withClient(adminUrl, async (c) => {
    const r = await c.query<{ query: string; calls: string; total: number }>(
      `SELECT query, calls::text, total_exec_time AS total FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)`, [dbName]);
    // Statements that differ only in their text (comments) collapse under one label.
    const byLabel = new Map<string, { calls: number; total: number }>();
    for (const row of r.rows) {
      if (/pg_stat_statements|pg_stat_/.test(row.query)) continue;
      const label = labelStatement(row.query);
      const e = byLabel.get(label) ?? { calls: 0, total: 0 };
      e.calls += Number(row.calls);
      e.total += row.total;
      byLabel.set(label, e);
    }
    const totalMs = [...byLabel.values()].reduce((s, e) => s + e.total, 0);
    const calls = [...byLabel.values()].reduce((s, e) => s + e.calls, 0);
    const top = [...byLabel.entries()].sort((a, b) => b[1].total - a[1].total).slice(0, limit).map(([statement, e]) => ({
      statement, calls: e.calls, totalMs: Math.round(e.total), meanMs: Math.round((e.total / Math.max(1, e.calls)) * 1000) / 1000,
      share: totalMs > 0 ? Math.round((e.total / totalMs) * 1000) / 1000 : 0,
    }));
    return { totalMs: Math.round(totalMs), calls, top };
  });
}
