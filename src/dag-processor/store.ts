// Writes the outcome of one file's parse in one transaction: every DAG it defines with its
// version hash (its shape and its bundle's hash), its bundle and next due time, or its import error (leaving stored DAGs untouched).
import { createHash } from 'node:crypto';
import type { SerializedDag } from '../core/types.js';
import { computeNextDue, dbNow, lastScheduledLogicalDate } from '../runs/next-due.js';
import { sql } from '../db/sql.js';
import type { Tx } from '../db/database.js';
import type { DagBundle } from './bundle.js';

/** A version is the DAG's shape and the code its tasks run: either changing makes a new one. */
export function versionHash(dag: SerializedDag, bundleHash: string): string {
  return createHash('sha256').update(JSON.stringify(dag)).update(bundleHash).digest('hex').slice(0, 16);
}

/** DAG ids that another active file already defines. */
async function idsOwnedElsewhere(tx: Tx, fileloc: string, dagIds: string[]): Promise<Map<string, string>> {
  const r = await tx.query<{ dag_id: string; fileloc: string }>(sql('dag-processor/dag_ids_owned_elsewhere'), [dagIds, fileloc]);
  return new Map(r.rows.map((row) => [row.dag_id, row.fileloc]));
}

/** Advisory-lock class of the per-DAG-id store lock (pg_locks.classid). */
export const DAG_ID_LOCK_CLASS = 72834;

export async function storeParsedFile(tx: Tx, fileloc: string, contentHash: string, dags: SerializedDag[], bundle: DagBundle): Promise<string | null> {
  for (const id of dags.map((d) => d.dagId).sort()) await tx.query(sql('dag-processor/dag_id_lock'), [DAG_ID_LOCK_CLASS, id]);
  const clash = await idsOwnedElsewhere(tx, fileloc, dags.map((d) => d.dagId));
  if (clash.size > 0) {
    return [...clash].map(([id, other]) => `DAG id "${id}" is already defined in ${other}; rename one of them`).join('\n');
  }
  const now = await dbNow(tx);
  await tx.query(sql('dag-processor/dag_bundle_insert'), [bundle.hash, bundle.entry, bundle.files, bundle.sizeBytes]);
  for (const dag of dags) {
    const hash = versionHash(dag, bundle.hash);
    const next = computeNextDue(dag, await lastScheduledLogicalDate(tx, dag.dagId), now);
    await tx.query(sql('dag-processor/dag_upsert'), [dag.dagId, fileloc, hash, dag, next]);
    await tx.query(sql('dag-processor/dag_version_insert'), [dag.dagId, hash, dag, bundle.hash]);
  }
  await tx.query(sql('dag-processor/dag_deactivate_missing'), [fileloc, dags.map((d) => d.dagId)]);
  await tx.query(sql('dag-processor/dag_file_parsed'), [fileloc, contentHash, dags.map((d) => d.dagId), null]);
  return null;
}

export async function storeImportError(tx: Tx, fileloc: string, contentHash: string, error: string): Promise<void> {
  await tx.query(sql('dag-processor/dag_file_parsed'), [fileloc, contentHash, [], error]);
}
