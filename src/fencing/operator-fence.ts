// Fencing by hand (`keel ha fence`), for when automation cannot tell: a host partitioned or
// misbehaving but alive, whose leases would otherwise run out only at their expiry. In one
// transaction the components are marked fenced (they never rejoin by heartbeating; their
// claims and lease takes refuse them, src/db/queries/worker/task_instances_claim.sql and
// the triggerer's and DAG processor's acquire statements), their running attempts end
// through endAttempt as fenced and are retried at once, and their triggers and DAG-file
// leases are freed for the other copies. No outage grace applies: the operator is the
// evidence. Rule "operator fence": src/fencing/INVARIANTS.md.
import { findTask } from '../core/dag-lookup.js';
import { NO_RETRIES } from '../core/retry-policy.js';
import type { SerializedDag } from '../core/types.js';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { UsageError } from '../errors.js';
import { endAttempt } from './end-attempt.js';

export interface FenceTarget {
  /** Component ids (from `keel ha status`). */
  componentIds: string[];
  /** Every component on this host. */
  hostname: string | null;
  reason: string;
  actor: string;
  dryRun?: boolean;
}

export interface FencedComponent { id: string; role: string; hostname: string; pid: number; state: string }

export interface FenceResult {
  dryRun: boolean;
  components: FencedComponent[];
  /** Attempts ended and what their task instance became (up_for_retry, failed, …). */
  attempts: { taskInstanceId: string; dagRunId: string; taskId: string; attemptId: string; next: string }[];
  triggersReleased: number;
  dagFilesReleased: string[];
}

interface AttemptRow {
  id: string; dag_run_id: string; task_id: string; attempt_id: string; try_number: number; max_tries: number; worker_id: string; serialized: SerializedDag;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function fenceComponents(db: Database, target: FenceTarget): Promise<FenceResult> {
  const bad = target.componentIds.filter((id) => !UUID.test(id));
  if (bad.length > 0) throw new UsageError(`not a component id: ${bad.join(', ')} (ids are UUIDs; see \`keel ha status\`)`);
  if (target.componentIds.length === 0 && !target.hostname) throw new UsageError('name the components to fence (ids from `keel ha status`) or --host');
  if (!target.reason.trim()) throw new UsageError('--reason is required: it is shown by the fenced process, `keel ha events` and `keel ha status`');
  return db.inTransaction(async (tx) => {
    const known = (await tx.query<FencedComponent>(sql('fencing/components_to_fence'), [target.componentIds, target.hostname])).rows;
    const missing = target.componentIds.filter((id) => !known.some((c) => c.id === id.toLowerCase()));
    if (missing.length > 0) throw new UsageError(`no component ${missing.join(', ')}; see \`keel ha status\``);
    if (known.length === 0) throw new UsageError(`no component on host "${target.hostname}"; see \`keel ha status\``);
    const live = known.filter((c) => c.state !== 'stopped' && c.state !== 'fenced');
    if (target.dryRun) {
      const attempts = (await tx.query<AttemptRow>(sql('fencing/task_instances_lock_of_workers'), [live.map((c) => c.id)])).rows;
      return { dryRun: true, components: live, attempts: attempts.map((a) => ({ taskInstanceId: a.id, dagRunId: a.dag_run_id, taskId: a.task_id, attemptId: a.attempt_id, next: 'retried per its policy' })), triggersReleased: 0, dagFilesReleased: [] };
    }
    const fenced = (await tx.query<FencedComponent>(sql('fencing/component_fence'), [target.componentIds, target.hostname, target.reason])).rows;
    const ids = fenced.map((c) => c.id);
    const attempts: FenceResult['attempts'] = [];
    const attemptsOf = new Map<string, number>();
    for (const a of (await tx.query<AttemptRow>(sql('fencing/task_instances_lock_of_workers'), [ids])).rows) {
      attemptsOf.set(a.worker_id, (attemptsOf.get(a.worker_id) ?? 0) + 1);
      const ended = await endAttempt(tx, {
        taskInstanceId: a.id, attemptId: a.attempt_id, tryNumber: a.try_number, maxTries: a.max_tries,
        policy: findTask(a.serialized, a.task_id) ?? NO_RETRIES, retryNow: true, componentId: null,
        outcome: { kind: 'failure', error: `attempt fenced by operator ${target.actor}: ${target.reason}`, attemptState: 'fenced' },
      });
      attempts.push({ taskInstanceId: a.id, dagRunId: a.dag_run_id, taskId: a.task_id, attemptId: a.attempt_id, next: ended.state });
    }
    const triggers = (await tx.query(sql('fencing/triggers_release_of'), [ids])).rowCount ?? 0;
    const files = (await tx.query<{ fileloc: string }>(sql('fencing/dag_file_leases_release_of'), [ids])).rows.map((r) => r.fileloc);
    for (const c of fenced) {
      await tx.query(sql('ha/ha_event_insert'), ['component_fenced', c.id, {
        by: target.actor, reason: target.reason, role: c.role, hostname: c.hostname, pid: c.pid,
        attemptsFenced: attemptsOf.get(c.id) ?? 0, triggersReleasedByAll: triggers, dagFilesReleasedByAll: files.length,
      }]);
    }
    return { dryRun: false, components: fenced.map((c) => ({ ...c, state: 'fenced' })), attempts, triggersReleased: triggers, dagFilesReleased: files };
  });
}
