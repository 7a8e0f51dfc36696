// What the database is doing, as one document for `keel ha status`, the detailed health
// document and the metrics: the server's role, cluster (system identifier) and timeline,
// its replicas with their lag, the host a multi-host URL chose, the read replica route, and
// the recent failover events.
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import type { ReaderStats } from '../db/read-router.js';
import { redact } from '../db/multi-host.js';

export interface ReplicaRow {
  name: string;
  address: string;
  state: string;
  sync_state: string;
  replay_lag_bytes: number | null;
  replay_lag_sec: number | null;
  write_lag_sec: number | null;
}

export interface DatabaseStatus {
  role: 'primary' | 'replica';
  systemId: string;
  timeline: number;
  server: string;
  startedAt: string;
  replicas: ReplicaRow[];
  /** Multi-host URLs of this process's Database: the host each one uses now and how often it moved. */
  hosts: { url: string; chosen: string | null; changes: number }[];
  pool: { total: number; idle: number; waiting: number };
  reads: ReaderStats;
  failoverEvents?: { at: Date; kind: string; role: string | null; hostname: string | null; details: unknown }[];
}

export async function readDatabaseStatus(db: Database, opts: { events?: number } = {}): Promise<DatabaseStatus> {
  const id = (await db.query<{ system_id: string; timeline: number; in_recovery: boolean; address: string; started_at: string }>(sql('ha/server_identity'))).rows[0]!;
  const replicas = (await db.query<ReplicaRow>(sql('ha/db_replicas'))).rows;
  const status: DatabaseStatus = {
    role: id.in_recovery ? 'replica' : 'primary', systemId: id.system_id, timeline: Number(id.timeline), server: id.address, startedAt: id.started_at,
    replicas,
    hosts: db.hostChoosers().filter((c) => c.parsed.hosts.length > 1 || c.checks).map((c) => ({
      url: redact(c.parsed.urlFor(c.parsed.hosts[0]!)).replace(/@[^/]*/, `@${c.parsed.hosts.map((h) => `${h.host}:${h.port}`).join(',')}`),
      chosen: c.chosen ? `${c.chosen.host}:${c.chosen.port}` : null, changes: c.changes,
    })),
    pool: db.poolStats(),
    reads: db.reads.stats(),
  };
  if (opts.events) status.failoverEvents = (await db.query(sql('ha/db_failover_events'), [opts.events])).rows;
  return status;
}

/** `keel ha status`: the database lines under the first one. */
export function printDatabaseStatus(s: DatabaseStatus, out: (line: string) => void = console.log): void {
  out(`  server ${s.server}, ${s.role}, timeline ${s.timeline}, system identifier ${s.systemId}`);
  if (s.replicas.length === 0) out('  replicas: none streaming from this server');
  for (const r of s.replicas) {
    out(`  replica ${r.name} (${r.address}): ${r.state}, ${r.sync_state}, replay lag ${r.replay_lag_bytes ?? '?'} bytes / ${r.replay_lag_sec === null ? '0' : r.replay_lag_sec.toFixed(3)} s`);
  }
  for (const h of s.hosts) out(`  multi-host ${h.url}: using ${h.chosen ?? '(none yet)'}, moved ${h.changes} time(s)`);
  for (const e of s.failoverEvents ?? []) out(`  ${e.at.toISOString()} ${e.kind}${e.role ? ` (${e.role} on ${e.hostname})` : ''} ${JSON.stringify(e.details)}`);
  if (s.failoverEvents?.length === 0) out('  no failover events');
}

/** One component's view of the database from its heartbeat details: "ok tl 3" or "UNFIT isolated_primary". */
export function componentDbView(details: unknown): string {
  const d = (details as { database?: { fit?: boolean; verdict?: string; timeline?: number } | null } | null)?.database;
  if (!d) return '';
  return d.fit ? `ok tl ${d.timeline}` : `UNFIT ${d.verdict}`;
}
