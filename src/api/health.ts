// The detailed health document: the database (reachable, primary or replica) and every
// component by role with its heartbeat age, rolled up into healthy / degraded / unhealthy.
// A load balancer or monitor can act on the HTTP status: 200 healthy or degraded, 503
// unhealthy. The roll-up is pure, so it is unit-tested without a server.
import type { Database } from '../db/database.js';
import { readDatabaseStatus, type DatabaseStatus } from '../ha/db-status.js';
import { sql } from '../db/sql.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface ComponentRow {
  id: string;
  role: string;
  hostname: string;
  pid: number;
  state: string;
  heartbeat_age_sec: number;
  dead_sec_ago: number | null;
}

export interface RoleHealth {
  status: HealthStatus | 'absent';
  healthy: number;
  total: number;
  reason?: string;
}

export interface HealthDocument {
  status: HealthStatus;
  checkedAt: string;
  database: { reachable: boolean; role?: 'primary' | 'replica'; version?: string; latencyMs?: number; error?: string } & Partial<Omit<DatabaseStatus, 'role'>>;
  roles: Record<string, RoleHealth>;
  components: (ComponentRow & { healthy: boolean })[];
}

/** Roles that must exist, and how bad their absence is. Triggerers count only once one has registered. */
const REQUIRED: Record<string, HealthStatus> = { scheduler: 'unhealthy', worker: 'degraded', 'dag-processor': 'degraded' };
const OPTIONAL = ['triggerer', 'api'];
/** A component that died this recently still marks its role degraded (another copy took over). */
export const RECENT_DEATH_SEC = 300;

export function assessHealth(database: HealthDocument['database'], rows: ComponentRow[], deadAfterSec: number, now = new Date()): HealthDocument {
  const components = rows.map((c) => ({ ...c, healthy: c.state === 'running' && c.heartbeat_age_sec <= deadAfterSec }));
  const roles: Record<string, RoleHealth> = {};
  const covers = (c: ComponentRow, role: string) => c.role === role || (c.role === 'standalone' && role in REQUIRED);
  for (const role of [...Object.keys(REQUIRED), ...OPTIONAL]) {
    const mine = components.filter((c) => covers(c, role));
    const healthy = mine.filter((c) => c.healthy).length;
    const lost = mine.filter((c) => !c.healthy && (c.state === 'running' || (c.state === 'dead' && (c.dead_sec_ago ?? Infinity) < RECENT_DEATH_SEC)));
    if (mine.length === 0 && !(role in REQUIRED)) continue;
    if (healthy === 0) {
      roles[role] = { status: mine.length === 0 ? 'absent' : REQUIRED[role] ?? 'degraded', healthy, total: mine.length, reason: mine.length === 0 ? `no ${role} has registered` : `no ${role} has heartbeated in the last ${deadAfterSec} s` };
      if (mine.length === 0 && role in REQUIRED) roles[role]!.status = REQUIRED[role]!;
    } else if (lost.length > 0) {
      roles[role] = { status: 'degraded', healthy, total: mine.length, reason: `${lost.length} ${role}(s) lost in the last ${RECENT_DEATH_SEC} s; ${healthy} healthy` };
    } else {
      roles[role] = { status: 'healthy', healthy, total: mine.length };
    }
  }
  let status: HealthStatus = 'healthy';
  const worst = (s: HealthStatus | 'absent') => {
    if (s === 'unhealthy') status = 'unhealthy';
    else if (s === 'degraded' && status === 'healthy') status = 'degraded';
  };
  if (!database.reachable || database.role === 'replica') status = 'unhealthy';
  for (const r of Object.values(roles)) worst(r.status);
  return { status, checkedAt: now.toISOString(), database, roles, components };
}

export async function readHealth(db: Database, deadAfterSec: number): Promise<HealthDocument> {
  const started = Date.now();
  try {
    const d = (await db.query<{ role: 'primary' | 'replica'; version: string }>(sql('api/health_database'))).rows[0]!;
    const latencyMs = Date.now() - started;
    const rows = (await db.query<ComponentRow>(sql('api/health_components'))).rows;
    // Timeline, system identifier, replicas and their lag, pool use, read route, failover events (src/ha/db-status.ts).
    const { role: _role, ...server } = await readDatabaseStatus(db, { events: 5 });
    return assessHealth({ reachable: true, role: d.role, version: d.version, latencyMs, ...server }, rows, deadAfterSec);
  } catch (err) {
    return assessHealth({ reachable: false, error: (err as Error).message }, [], deadAfterSec);
  }
}

/**
 * The health document for callers that are neither logged in nor on loopback: the
 * statuses a load balancer or monitor acts on, without the database's address, system
 * identifier, replicas or the components' hosts and PIDs.
 */
export function publicHealth(doc: HealthDocument): Pick<HealthDocument, 'status' | 'checkedAt' | 'roles'> & { database: { reachable: boolean; role?: 'primary' | 'replica' }; details: string } {
  return {
    status: doc.status, checkedAt: doc.checkedAt, database: { reachable: doc.database.reachable, role: doc.database.role }, roles: doc.roles,
    details: 'log in, send an API token, or ask from loopback for the database and component details',
  };
}

export const httpStatusOf = (s: HealthStatus) => (s === 'unhealthy' ? 503 : 200);
