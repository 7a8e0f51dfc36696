// Client idempotency keys for manual triggers (API header `Idempotency-Key`, CLI
// `--idempotency-key`): a client that retries a trigger after losing the answer gets the run
// its first try made instead of a second one. The key is mapped to the run's trigger_key
// (a uuid, unique; see triggerDag and ADR 0005) by a name-based UUID scoped per DAG, so the
// same key on two DAGs makes two runs. Nothing new is stored: a repeat is recognised by the
// trigger key, and compared with the run it finds (see mismatchOf).
import { isDeepStrictEqual } from 'node:util';
import { v5 as uuidV5 } from 'uuid';
import { resolveParams } from '../core/params.js';
import type { ParamSpec } from '../core/types.js';
import type { Database } from '../db/database.js';
import { UsageError } from '../errors.js';
import { triggerDag, type TriggerInput, type TriggeredRun } from './manual-run.js';
import { sql } from '../db/sql.js';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;
/** The JSON-schema pattern of a key (the API's header schema). */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]+$';

/**
 * The namespace of Keel's trigger keys. Never change it: every key already used would map
 * to another run. A client can compute a run's trigger key as
 * uuid5(IDEMPOTENCY_NAMESPACE, `${dagId}\n${key}`).
 */
export const IDEMPOTENCY_NAMESPACE = '59363b2b-9456-46d2-9edb-aa300cb77850';

/** Why `key` cannot be an idempotency key, or null when it can. */
export function idempotencyKeyProblem(key: string): string | null {
  const rule = `must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters (space to ~), for example a UUID made once per logical request`;
  if (key.length === 0) return `${rule}; got an empty value`;
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) return `${rule}; got ${key.length} characters`;
  if (!PRINTABLE_ASCII.test(key)) {
    const at = [...key].findIndex((c) => !PRINTABLE_ASCII.test(c));
    return `${rule}; got ${JSON.stringify([...key][at])} at position ${at + 1}`;
  }
  return null;
}

/**
 * The trigger key (dag_run.trigger_key) of a client's idempotency key on a DAG. A key holds
 * no newline, so `dagId + "\n" + key` names each (DAG, key) pair once.
 */
export function triggerKeyFor(dagId: string, key: string): string {
  // A name-based UUID, version 5 (RFC 9562). The name is passed as its UTF-8 bytes: every
  // string maps as before, also one the uuid package's own string encoding would reject.
  return uuidV5(Buffer.from(`${dagId}\n${key}`, 'utf8'), IDEMPOTENCY_NAMESPACE);
}

/** The run an idempotency key found was made from other input than the repeat asks for. */
export class IdempotencyKeyConflict extends UsageError {
  override name = 'IdempotencyKeyConflict';
}

/** What a trigger asked for, to compare with the run its key found. */
export type AskedRun = Pick<TriggerInput, 'params' | 'logicalDate' | 'runId'>;

/**
 * How the run a key found differs from what a repeat asks for, or [] when it does not.
 * Params are compared after resolving the repeat's against the DAG's param specs (defaults
 * filled in), so leaving out params is asking for the defaults. logicalDate and runId are
 * compared when the repeat sets them: their defaults come from the clock.
 */
export function mismatchOf(run: Omit<TriggeredRun, 'created'>, dagId: string, resolvedParams: Record<string, unknown>, asked: AskedRun): string[] {
  const out: string[] = [];
  if (run.dagId !== dagId) out.push(`it belongs to DAG "${run.dagId}"`);
  if (!isDeepStrictEqual(run.params, resolvedParams)) out.push(`its params are ${JSON.stringify(run.params)}, this request's ${JSON.stringify(resolvedParams)}`);
  if (asked.logicalDate && asked.logicalDate.getTime() !== new Date(run.logicalDate).getTime()) {
    out.push(`its logicalDate is ${new Date(run.logicalDate).toISOString()}, this request's ${asked.logicalDate.toISOString()}`);
  }
  if (asked.runId !== undefined && asked.runId !== run.runId) out.push(`its runId is "${run.runId}", this request's "${asked.runId}"`);
  return out;
}

/** The run a key found when the repeat asks for the same; otherwise an IdempotencyKeyConflict (or a UsageError for invalid input). */
function sameOrConflict(run: TriggeredRun, specs: Record<string, ParamSpec>, dagId: string, asked: AskedRun, key: string, keyName: string): TriggeredRun {
  if (asked.logicalDate && Number.isNaN(asked.logicalDate.getTime())) throw new UsageError('logical date is not a valid date; use ISO-8601, e.g. 2026-01-01T00:00:00Z');
  const resolved = resolveParams(specs, asked.params);
  if (!resolved.ok) throw new UsageError(`invalid params for DAG "${dagId}": ${resolved.errors.join('; ')}`);
  const diff = mismatchOf(run, dagId, resolved.params, asked);
  if (diff.length === 0) return run;
  throw new IdempotencyKeyConflict(
    `${keyName}: "${key}" was already used for run ${run.id} (${run.runId}) of DAG "${run.dagId}" made from other input: ${diff.join('; ')}. `
    + 'Repeat the first request unchanged to get that run, or use a new key for a new run',
  );
}

/**
 * triggerDag with a client's idempotency key: the first call creates the run (created:
 * true); a repeat with the same key on the same DAG, also one racing the first, returns that
 * run (created: false) when it asks for the same (see mismatchOf), else throws
 * IdempotencyKeyConflict. `keyName` names the key in messages (the header, the flag).
 */
export async function triggerDagWithKey(db: Database, dagId: string, asked: AskedRun, key: string, keyName: string): Promise<TriggeredRun> {
  const problem = idempotencyKeyProblem(key);
  if (problem) throw new UsageError(`${keyName}: ${problem}`);
  const run = await triggerDag(db, dagId, { ...asked, triggerKey: triggerKeyFor(dagId, key) });
  if (run.created) return run; // made here from this input
  const specs = (await db.query<{ params: Record<string, ParamSpec> | null }>(sql('runs/dag_params'), [dagId])).rows[0]?.params ?? {};
  return sameOrConflict(run, specs, dagId, asked, key, keyName);
}
