// Split-brain detection, the pure part. A component's session holds one long-lived
// connection; its pools reach the database through the configured route (HAProxy, a
// multi-host URL, PgBouncer). After a failover the session's server may be a demoted
// primary (now in recovery) or an isolated old primary that still accepts writes (Patroni
// killed, postmaster alive). The session compares what its own server says with what a
// fresh connection through the route reaches; this module turns the two answers into a
// verdict. No I/O: tested in test/unit/primary-identity.test.ts.

export interface ServerIdentity {
  /** pg_control_system().system_identifier: the same on every member of one cluster. */
  systemId: string;
  /** The timeline the server writes on (primary) or replays (standby); a promotion raises it. */
  timeline: number;
  inRecovery: boolean;
  /** inet_server_addr():inet_server_port() as this connection sees it (display only: routes differ). */
  address: string;
  /** pg_postmaster_start_time(): tells a restarted or different server apart on the same timeline. */
  startedAt: string;
}

export type Verdict =
  | { fit: true; reason: 'same_primary' | 'unconfirmed' }
  | { fit: false; reason: 'in_recovery' | 'isolated_primary' | 'other_cluster' | 'route_behind'; detail: string };

/**
 * mine: the session's server; route: what a fresh connection through the configured URL
 * reaches (null when it could not connect: the route itself is failing over, nothing is
 * proven, and the pool's own errors drive self-fencing).
 */
export function judgePrimary(mine: ServerIdentity, route: ServerIdentity | null): Verdict {
  if (mine.inRecovery) return { fit: false, reason: 'in_recovery', detail: `this component's database server (${mine.address}) is in recovery: it is a standby or a demoted primary` };
  if (!route) return { fit: true, reason: 'unconfirmed' };
  if (mine.systemId !== route.systemId) {
    return { fit: false, reason: 'other_cluster', detail: `the session's server (${mine.address}, system ${mine.systemId}) is not in the cluster the database URL reaches (${route.address}, system ${route.systemId})` };
  }
  if (mine.timeline < route.timeline) {
    return { fit: false, reason: 'isolated_primary', detail: `the session's server (${mine.address}) is on timeline ${mine.timeline} while the database URL reaches timeline ${route.timeline} (${route.address}): it is an old primary that was failed over` };
  }
  if (mine.timeline > route.timeline || route.inRecovery) {
    return { fit: false, reason: 'route_behind', detail: `the database URL reaches ${route.address} (timeline ${route.timeline}${route.inRecovery ? ', in recovery' : ''}), behind the session's server on timeline ${mine.timeline}` };
  }
  return { fit: true, reason: 'same_primary' };
}

/** Whether the primary reached through the route changed since the last check (failover, switchover or restart). */
export function primaryChanged(previous: ServerIdentity | null, now: ServerIdentity | null): boolean {
  if (!previous || !now) return false;
  return previous.systemId !== now.systemId || previous.timeline !== now.timeline || previous.startedAt !== now.startedAt;
}
