// Gathers what `keel ha audit` judges (src/core/ha-audit.ts): the live components with their
// nodes and zones, the replicas streaming from the primary, Patroni's members and etcd's
// when configured, and the last window's attempt load.
import { auditDeployment, AUDITED_ROLES, type AuditComponent, type AuditInput, type AuditReport } from '../core/ha-audit.js';
import type { KeelOptions } from '../config/options.js';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';

const FETCH_TIMEOUT_MS = 3000;

async function getJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

/** Patroni's members from GET /cluster. */
async function patroniMembers(url: string): Promise<NonNullable<AuditInput['database']['patroni']>> {
  const body = (await getJson(new URL('/cluster', url).toString())) as { members?: { name: string; role: string; state: string; lag?: number | string }[] };
  return (body.members ?? []).map((m) => ({ name: m.name, role: m.role, state: m.state, lagBytes: typeof m.lag === 'number' ? m.lag : null }));
}

/** etcd's member count from the first endpoint that answers (POST /v3/cluster/member/list). */
async function etcdMemberCount(endpoints: string): Promise<number> {
  const errors: string[] = [];
  for (const endpoint of endpoints.split(',').map((e) => e.trim()).filter(Boolean)) {
    try {
      const body = (await getJson(new URL('/v3/cluster/member/list', endpoint).toString(), { method: 'POST', body: '{}' })) as { members?: unknown[] };
      return body.members?.length ?? 0;
    } catch (err) {
      errors.push(`${endpoint}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no etcd endpoint answered (${errors.join('; ')})`);
}

export interface AuditOutcome extends AuditReport {
  /** What could not be read (Patroni, etcd): the audit is incomplete, says so, and is not ok. */
  unreadable: string[];
}

/** The options the audit reads. */
export type AuditOptions = Pick<KeelOptions, 'componentDeadAfterSec' | 'expectedCopies' | 'patroniUrl' | 'etcdEndpoints' | 'replicaMaxLagMs' | 'databaseUrl'>;

export async function runAudit(db: Database, options: AuditOptions, windowSec: number): Promise<AuditOutcome> {
  const components = (await db.query<{ role: string; node: string; zone: string | null; capacity: number }>(sql('ha/audit_components'), [options.componentDeadAfterSec])).rows
    .filter((c): c is AuditComponent => (AUDITED_ROLES as readonly string[]).includes(c.role) || c.role === 'standalone');
  const replicas = (await db.query<{ name: string; state: string; sync_state: string; replay_lag_sec: number | null }>(sql('ha/db_replicas'))).rows;
  const load = (await db.query<{ peak_running: number; mean_running: number }>(sql('ha/audit_load'), [windowSec])).rows[0]!;
  const unreadable: string[] = [];
  const read = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (err) {
      unreadable.push(`${what}: ${(err as Error).message}`);
      return null;
    }
  };
  const patroni = options.patroniUrl ? await read('Patroni', () => patroniMembers(options.patroniUrl!)) : null;
  const etcdMembers = options.etcdEndpoints ? await read('etcd', () => etcdMemberCount(options.etcdEndpoints!)) : null;
  const report = auditDeployment({
    components, expectedCopies: options.expectedCopies,
    database: { embedded: options.databaseUrl === undefined, replicas: replicas.map((r) => ({ name: r.name, state: r.state, syncState: r.sync_state, replayLagSec: r.replay_lag_sec })), patroni, etcdMembers },
    load: { windowSec, peakRunning: load.peak_running, meanRunning: load.mean_running },
    replicaLagWarnSec: options.replicaMaxLagMs / 1000,
  });
  for (const u of unreadable) report.findings.push({ severity: 'warning', what: `could not read ${u}`, fix: 'check the URL in the configuration and that the service runs' });
  return { ...report, ok: report.ok && unreadable.length === 0, unreadable };
}
