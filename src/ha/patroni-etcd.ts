// Patroni's and etcd's own view of the database cluster, read over their HTTP APIs for
// `keel ha audit` and `keel ha diagnose`, with a short timeout each: a dead node must not
// hang either command, and one that does not answer is reported, never thrown.
const FETCH_TIMEOUT_MS = 3000;

async function getJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

const splitUrls = (list: string): string[] => list.split(',').map((u) => u.trim()).filter(Boolean);

export interface PatroniMember { name: string; role: string; state: string; timeline: number | null; lagBytes: number | null }

export type PatroniView =
  | { reachable: true; paused: boolean; members: PatroniMember[]; silent: { url: string; error: string }[] }
  | { reachable: false; error: string };

/** The cluster (GET /cluster) from the first member that answers, and every configured member that does not. */
export async function readPatroni(urls: string): Promise<PatroniView> {
  type ClusterDoc = { pause?: boolean; members?: { name: string; role: string; state: string; timeline?: number; lag?: number | string }[] };
  let doc: ClusterDoc | null = null;
  const silent: { url: string; error: string }[] = [];
  for (const url of splitUrls(urls)) {
    try {
      const answer = (await getJson(new URL('/cluster', url).toString())) as ClusterDoc;
      doc ??= answer;
    } catch (err) {
      silent.push({ url, error: (err as Error).message });
    }
  }
  if (!doc) return { reachable: false, error: silent.map((s) => `${s.url}: ${s.error}`).join('; ') || 'no URL configured' };
  return {
    reachable: true, paused: doc.pause === true, silent,
    members: (doc.members ?? []).map((m) => ({ name: m.name, role: m.role, state: m.state, timeline: m.timeline ?? null, lagBytes: typeof m.lag === 'number' ? m.lag : null })),
  };
}

export type EtcdView = { reachable: true; healthy: boolean; members: number } | { reachable: false; error: string };

/** Health (GET /health) and member count (POST /v3/cluster/member/list) from the first endpoint that answers. */
export async function readEtcd(endpoints: string): Promise<EtcdView> {
  const errors: string[] = [];
  for (const endpoint of splitUrls(endpoints)) {
    try {
      const health = (await getJson(new URL('/health', endpoint).toString())) as { health?: string };
      const list = (await getJson(new URL('/v3/cluster/member/list', endpoint).toString(), { method: 'POST', body: '{}' })) as { members?: unknown[] };
      return { reachable: true, healthy: health.health === 'true', members: list.members?.length ?? 0 };
    } catch (err) {
      errors.push(`${endpoint}: ${(err as Error).message}`);
    }
  }
  return { reachable: false, error: errors.join('; ') || 'no endpoint configured' };
}
