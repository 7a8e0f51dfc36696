// Patroni's REST API, read side: the cluster document every member serves at /cluster.
export interface Member {
  name: string;
  role: 'leader' | 'replica' | 'sync_standby' | 'standby_leader' | string;
  state: string;
  timeline?: number;
  lag?: number | string;
  api_url?: string;
}

export interface ClusterDoc { members: Member[] }

export async function getCluster(apiPort: number, timeoutMs = 1000): Promise<ClusterDoc | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${apiPort}/cluster`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    return (await res.json()) as ClusterDoc;
  } catch {
    return null;
  }
}

/** Why the cluster is not fully healthy yet, or null when it is: one running leader and every other member a streaming replica on its timeline with lag 0. */
export function unhealthyReason(doc: ClusterDoc | null, size: number, synchronous: boolean | null): string | null {
  if (!doc) return 'no member answers /cluster';
  const leaders = doc.members.filter((m) => m.role === 'leader');
  if (leaders.length !== 1) return `${leaders.length} leaders`;
  const leader = leaders[0]!;
  if (leader.state !== 'running') return `leader ${leader.name} is ${leader.state}`;
  if (doc.members.length !== size) return `${doc.members.length} of ${size} members`;
  for (const m of doc.members) {
    if (m === leader) continue;
    if (m.role !== 'replica' && m.role !== 'sync_standby') return `${m.name} is ${m.role}`;
    if (m.state !== 'running' && m.state !== 'streaming') return `${m.name} is ${m.state}`;
    if (m.lag !== 0) return `${m.name} lags ${String(m.lag)}`;
    if (m.timeline !== leader.timeline) return `${m.name} on timeline ${m.timeline}, leader on ${leader.timeline}`;
  }
  const sync = doc.members.filter((m) => m.role === 'sync_standby').length;
  if (synchronous === true && sync === 0) return 'no synchronous standby yet';
  if (synchronous === false && sync > 0) return 'a synchronous standby remains';
  return null;
}
