// JSON over HTTP from the operators' tools Keel reads (Patroni's REST API, etcd's gateway),
// with a short timeout: an audit or a diagnosis must not hang on a dead node.
const FETCH_TIMEOUT_MS = 3000;

export async function getJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

/** A comma-separated list of URLs. */
export const splitUrls = (list: string): string[] => list.split(',').map((u) => u.trim()).filter(Boolean);
