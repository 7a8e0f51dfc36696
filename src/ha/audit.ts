// Gathers what `keel ha audit` judges (src/core/ha-audit.ts): the live components with their
// nodes and zones, the replicas streaming from the primary, Patroni's members and etcd's
// when configured, and the last window's attempt load.
import { auditDeployment, AUDITED_ROLES, type AuditComponent, type AuditReport } from '../core/ha-audit.js';
import type { KeelOptions } from '../config/options.js';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { readEtcd, readPatroni } from './patroni-etcd.js';

export interface AuditOutcome extends AuditReport {
  /** What could not be read (Patroni, etcd): the audit is incomplete, says so, and is not ok. */
  unreadable: string[];
}

/** The options the audit reads. */
export type AuditOptions = Pick<KeelOptions, 'componentDeadAfterSec' | 'expectedCopies' | 'patroniUrls' | 'etcdEndpoints' | 'replicaMaxLagMs' | 'databaseUrl'>;

export async function runAudit(db: Database, options: AuditOptions, windowSec: number): Promise<AuditOutcome> {
  const components = (await db.query<{ role: string; node: string; zone: string | null; capacity: number }>(sql('ha/audit_components'), [options.componentDeadAfterSec])).rows
    .filter((c): c is AuditComponent => (AUDITED_ROLES as readonly string[]).includes(c.role) || c.role === 'standalone');
  const replicas = (await db.query<{ name: string; state: string; sync_state: string; replay_lag_sec: number | null }>(sql('ha/db_replicas'))).rows;
  const load = (await db.query<{ peak_running: number; mean_running: number }>(sql('ha/audit_load'), [windowSec])).rows[0]!;
  const unreadable: string[] = [];
  const patroniView = options.patroniUrls ? await readPatroni(options.patroniUrls) : null;
  if (patroniView && !patroniView.reachable) unreadable.push(`Patroni: ${patroniView.error}`);
  const patroni = patroniView?.reachable ? patroniView.members : null;
  const etcdView = options.etcdEndpoints ? await readEtcd(options.etcdEndpoints) : null;
  if (etcdView && !etcdView.reachable) unreadable.push(`etcd: no etcd endpoint answered (${etcdView.error})`);
  const etcdMembers = etcdView?.reachable ? etcdView.members : null;
  const report = auditDeployment({
    components, expectedCopies: options.expectedCopies,
    database: { embedded: options.databaseUrl === undefined, replicas: replicas.map((r) => ({ name: r.name, state: r.state, syncState: r.sync_state, replayLagSec: r.replay_lag_sec })), patroni, etcdMembers },
    load: { windowSec, peakRunning: load.peak_running, meanRunning: load.mean_running },
    replicaLagWarnSec: options.replicaMaxLagMs / 1000,
  });
  for (const u of unreadable) report.findings.push({ severity: 'warning', what: `could not read ${u}`, fix: 'check the URL in the configuration and that the service runs' });
  return { ...report, ok: report.ok && unreadable.length === 0, unreadable };
}
