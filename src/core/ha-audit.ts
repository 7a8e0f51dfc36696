// `keel ha audit`: the deployment as Keel sees it, its single points of failure, and whether
// it keeps up when it loses its largest node (N+1) or two (N+2). Pure: fed what one read of
// the database (and, when configured, Patroni and etcd) gives (src/ha/audit.ts).

export const AUDITED_ROLES = ['scheduler', 'worker', 'dag-processor', 'triggerer', 'api'] as const;
export type AuditedRole = (typeof AUDITED_ROLES)[number];

export interface AuditComponent {
  role: AuditedRole | 'standalone';
  /** The failure domain: the machine (KEEL_NODE_NAME, else the hostname). */
  node: string;
  zone: string | null;
  /** A worker's slots (0 for other roles). */
  capacity: number;
}

export interface AuditReplica { name: string; state: string; syncState: string; replayLagSec: number | null }

export interface AuditInput {
  components: readonly AuditComponent[];
  expectedCopies: Readonly<Partial<Record<AuditedRole, number>>>;
  database: {
    embedded: boolean;
    /** Replicas streaming from the primary (pg_stat_replication). */
    replicas: readonly AuditReplica[];
    /** Patroni members when a Patroni REST URL is configured (null: not configured). */
    patroni: readonly { name: string; role: string; state: string; lagBytes: number | null }[] | null;
    /** etcd members when etcd endpoints are configured (null: not configured). */
    etcdMembers: number | null;
  };
  /** Attempt slots the last window needed: its peak of attempts running at once, and its mean. */
  load: { windowSec: number; peakRunning: number; meanRunning: number };
  replicaLagWarnSec: number;
}

export type Severity = 'spof' | 'warning';
export interface Finding { severity: Severity; what: string; fix: string }

export interface CapacityCheck {
  /** Nodes lost (the largest by worker slots). */
  lost: string[];
  slotsLeft: number;
  needed: number;
  ok: boolean;
}

/** How well a role is covered: redundant (copies on two or more nodes), single (one copy, or every copy on one node), below (fewer than expectedCopies), absent. */
export type Coverage = 'redundant' | 'single' | 'below' | 'absent';

export interface RoleAudit {
  role: AuditedRole; copies: number; expected: number | null; nodes: string[]; zones: string[];
  status: Coverage; singlePointOfFailure: boolean; note: string;
}

export interface AuditReport {
  roles: RoleAudit[];
  database: { streamingReplicas: number; singlePointOfFailure: boolean; note: string };
  /** The roles, and 'database', whose loss stops their duty. */
  singlePointsOfFailure: string[];
  workerSlots: number;
  findings: Finding[];
  capacity: { nPlus1: CapacityCheck; nPlus2: CapacityCheck };
  /** Whether anything would stop work if one node or the database server failed. */
  ok: boolean;
}

const distinct = (xs: readonly string[]) => [...new Set(xs)].sort();

function capacityAfterLosing(components: readonly AuditComponent[], lose: number, needed: number): CapacityCheck {
  const byNode = new Map<string, number>();
  for (const c of components) byNode.set(c.node, (byNode.get(c.node) ?? 0) + c.capacity);
  const largest = [...byNode.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, lose);
  const total = [...byNode.values()].reduce((a, b) => a + b, 0);
  const slotsLeft = total - largest.reduce((a, [, n]) => a + n, 0);
  return { lost: largest.map(([n]) => n), slotsLeft, needed, ok: slotsLeft >= needed && (needed === 0 || slotsLeft > 0) };
}

export function auditDeployment(input: AuditInput): AuditReport {
  const findings: Finding[] = [];
  const standalone = input.components.filter((c) => c.role === 'standalone');
  if (standalone.length > 0) {
    findings.push({
      severity: 'spof',
      what: `${standalone.length} standalone process(es) on ${distinct(standalone.map((c) => c.node)).join(', ')} run every role in one process`,
      fix: 'run the roles as separate processes, two or more copies each on different nodes (docs/operations.md#running-the-roles-separately)',
    });
  }
  const roles = AUDITED_ROLES.map((role): RoleAudit => {
    const mine = input.components.filter((c) => c.role === role || c.role === 'standalone');
    const nodes = distinct(mine.map((c) => c.node));
    const zones = distinct(mine.flatMap((c) => (c.zone ? [c.zone] : [])));
    const expected = input.expectedCopies[role] ?? null;
    let status: Coverage = 'redundant';
    let finding: Finding | null = null;
    if (mine.length === 0) [status, finding] = ['absent', { severity: 'spof', what: `no live ${role}`, fix: `start ${role} copies (\`keel ${role}\`) on two or more nodes` }];
    else if (mine.length === 1) [status, finding] = ['single', { severity: 'spof', what: `one ${role} (on ${nodes[0]}): its loss stops what it does`, fix: `start a second \`keel ${role}\` on another node` }];
    else if (nodes.length === 1) [status, finding] = ['single', { severity: 'spof', what: `all ${mine.length} ${role} copies run on ${nodes[0]}`, fix: 'move a copy to another node (spread them: topology spread / anti-affinity)' }];
    else if (zones.length === 1 && mine.every((c) => c.zone)) finding = { severity: 'warning', what: `all ${role} copies are in zone ${zones[0]}`, fix: 'spread the copies over zones (KEEL_ZONE labels each process)' };
    if (finding) findings.push(finding);
    let below: Finding | null = null;
    if (expected !== null && mine.length < expected) {
      below = { severity: 'spof', what: `${mine.length} of the ${expected} configured ${role} copies are alive`, fix: 'see `keel ha status` for the missing ones and restart them (expectedCopies)' };
      findings.push(below);
      if (status !== 'absent') status = 'below';
    }
    const spof = finding?.severity === 'spof' || below !== null;
    const note = [finding?.what, below?.what].filter(Boolean).join('; ') || `${mine.length} copies on ${nodes.length} nodes: any one can die`;
    return { role, copies: mine.length, expected, nodes, zones, status, singlePointOfFailure: spof, note };
  });

  const db = input.database;
  const beforeDb = findings.length;
  if (db.embedded) {
    findings.push({ severity: 'spof', what: 'the database is the embedded PostgreSQL: one server, no replica, on this node', fix: 'use a replicated PostgreSQL (Patroni, a managed HA database) through KEEL_DATABASE_URL (docs/database-ha.md)' });
  } else if (db.replicas.length === 0) {
    findings.push({ severity: 'spof', what: 'no replica streams from the database primary: its loss stops Keel and may lose data', fix: 'add a streaming replica with automatic failover (Patroni: deploy/patroni/, docs/database-ha.md)' });
  } else {
    const streaming = db.replicas.filter((r) => r.state === 'streaming');
    if (streaming.length === 0) findings.push({ severity: 'spof', what: `no replica is streaming (${db.replicas.map((r) => `${r.name}: ${r.state}`).join(', ')})`, fix: 'see docs/runbooks/replication-lag.md' });
    if (!db.replicas.some((r) => r.syncState === 'sync' || r.syncState === 'quorum')) {
      findings.push({ severity: 'warning', what: 'replication is asynchronous only: a failover may lose the last commits (RPO > 0)', fix: 'turn on synchronous replication (Patroni synchronous_mode) where no acknowledged trigger may be lost' });
    }
    for (const r of db.replicas) {
      if (r.replayLagSec !== null && r.replayLagSec > input.replicaLagWarnSec) findings.push({ severity: 'warning', what: `replica ${r.name} replays ${r.replayLagSec.toFixed(1)} s behind`, fix: 'see docs/runbooks/replication-lag.md' });
    }
  }
  const dbSpof = findings.slice(beforeDb).find((f) => f.severity === 'spof') ?? null;
  const streamingReplicas = db.replicas.filter((r) => r.state === 'streaming').length;
  const database = { streamingReplicas, singlePointOfFailure: dbSpof !== null, note: dbSpof?.what ?? `${streamingReplicas} replica(s) streaming: a failover target exists` };
  if (db.patroni !== null) {
    const running = db.patroni.filter((m) => m.state === 'running' || m.state === 'streaming');
    if (!db.patroni.some((m) => m.role === 'leader' || m.role === 'standby_leader')) findings.push({ severity: 'spof', what: 'Patroni has no leader', fix: 'see docs/runbooks/failover.md' });
    if (running.length < 2) findings.push({ severity: 'spof', what: `Patroni has ${running.length} running member(s): no failover target`, fix: 'start or repair the other Patroni members' });
  }
  if (db.etcdMembers !== null && db.etcdMembers < 3) {
    findings.push({ severity: 'spof', what: `etcd has ${db.etcdMembers} member(s): losing one loses quorum, and Patroni then demotes the primary`, fix: 'run three or five etcd members on different nodes' });
  }

  const workers = input.components.filter((c) => c.role === 'worker' || c.role === 'standalone');
  const needed = Math.max(input.load.peakRunning, Math.ceil(input.load.meanRunning));
  const nPlus1 = capacityAfterLosing(workers, 1, needed);
  const nPlus2 = capacityAfterLosing(workers, 2, needed);
  if (!nPlus1.ok) findings.push({ severity: 'spof', what: `without ${nPlus1.lost.join(', ')} the workers have ${nPlus1.slotsLeft} slots; the last ${Math.round(input.load.windowSec / 60)} min needed up to ${needed} at once (N+1)`, fix: 'add worker slots on other nodes (workerConcurrency or more workers)' });
  else if (!nPlus2.ok) findings.push({ severity: 'warning', what: `without ${nPlus2.lost.join(' and ')} the workers have ${nPlus2.slotsLeft} slots; the last ${Math.round(input.load.windowSec / 60)} min needed up to ${needed} at once (N+2)`, fix: 'add worker slots on other nodes to survive two lost nodes' });

  return {
    roles, database, singlePointsOfFailure: [...roles.filter((r) => r.singlePointOfFailure).map((r) => r.role), ...(database.singlePointOfFailure ? ['database'] : [])],
    workerSlots: workers.reduce((a, c) => a + c.capacity, 0), findings,
    capacity: { nPlus1, nPlus2 }, ok: !findings.some((f) => f.severity === 'spof'),
  };
}
