// Redundancy of a deployment, for the HA dashboard: per role, the copies alive against the
// copies configured (expectedCopies), and every single point of failure — a role with one
// copy, or a database with no replica streaming from it. Pure: the API feeds it the health
// document's components and the database's replicas.

export const HA_ROLES = ['scheduler', 'worker', 'dag-processor', 'triggerer', 'api'] as const;

export interface RoleCoverage {
  role: string;
  alive: number;
  /** Copies meant to run (expectedCopies); null when the deployment did not say. */
  configured: number | null;
  status: 'redundant' | 'single' | 'below' | 'absent';
  singlePointOfFailure: boolean;
  note: string;
}

export interface DatabaseCoverage {
  role: string | null;
  replicas: number;
  singlePointOfFailure: boolean;
  note: string;
}

/** A standalone process is one copy of every role. */
const covers = (componentRole: string, role: string) => componentRole === role || componentRole === 'standalone';

export function roleCoverage(components: { role: string; healthy: boolean }[], expectedCopies: Readonly<Record<string, number>>): RoleCoverage[] {
  return HA_ROLES.map((role) => {
    const alive = components.filter((c) => c.healthy && covers(c.role, role)).length;
    const configured = expectedCopies[role] ?? null;
    const single = alive === 1 || configured === 1;
    let status: RoleCoverage['status'];
    let note: string;
    if (alive === 0) {
      status = 'absent';
      note = configured ? `no ${role} alive of ${configured} configured` : `no ${role} alive`;
    } else if (configured !== null && alive < configured) {
      status = 'below';
      note = `${alive} of ${configured} configured ${role} copies alive`;
    } else if (single) {
      status = 'single';
      note = configured === 1 ? `one ${role} configured: a single point of failure` : `one ${role} alive: a single point of failure`;
    } else {
      status = 'redundant';
      note = `${alive} copies: any one can die`;
    }
    if (single && status === 'below') note += ': a single point of failure';
    return { role, alive, configured, status, singlePointOfFailure: single, note };
  });
}

export function databaseCoverage(role: string | null, streamingReplicas: number): DatabaseCoverage {
  if (role === null) return { role, replicas: 0, singlePointOfFailure: true, note: 'the database cannot be reached' };
  if (streamingReplicas === 0) return { role, replicas: 0, singlePointOfFailure: true, note: 'a single, unreplicated database: a single point of failure (no replica streams from it to fail over to)' };
  return { role, replicas: streamingReplicas, singlePointOfFailure: false, note: `${streamingReplicas} replica(s) streaming: a failover target exists` };
}
