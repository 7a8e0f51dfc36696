// Serialized DAG versions are immutable (keyed by DAG id and version hash), so each process
// reads one at most once and keeps it, instead of fetching its JSON on every turn.
import type { SerializedDag } from '../core/types.js';
import type { Queryable } from './queryable.js';
import { sql } from './sql.js';

export interface VersionKey {
  dag_id: string;
  version_hash: string;
}

const keyOf = (k: VersionKey) => `${k.dag_id}\u0000${k.version_hash}`;

export class DagVersionCache {
  private readonly versions = new Map<string, SerializedDag>();

  /** The cached version; call load() for the keys first. */
  get(k: VersionKey): SerializedDag | undefined {
    return this.versions.get(keyOf(k));
  }

  async load(db: Queryable, keys: readonly VersionKey[]): Promise<void> {
    const missing = new Map<string, VersionKey>();
    for (const k of keys) if (!this.versions.has(keyOf(k))) missing.set(keyOf(k), k);
    if (missing.size === 0) return;
    const list = [...missing.values()];
    const res = await db.query<VersionKey & { serialized: SerializedDag }>(sql('db/dag_versions_get'), [list.map((k) => k.dag_id), list.map((k) => k.version_hash)]);
    for (const r of res.rows) this.versions.set(keyOf(r), r.serialized);
  }
}
