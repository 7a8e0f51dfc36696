// The sweeps that fence lost attempts, run by every scheduler (no singleton: SKIP LOCKED
// splits the rows). An attempt is lost when its lease expired (its worker froze, was cut
// off or died unnoticed) or when its worker process is gone (session lock released,
// heartbeat stale). Either way its end goes through endAttempt, conditional on the attempt
// id, and is retried at once: the attempt was lost with its worker, the task did not fail.
// Both statements call keel_fencing_allowed(), the database's part of the outage grace.
// Rules "lease expiry", "orphan fencing" and "outage grace": src/fencing/INVARIANTS.md;
// docs/decisions/0001-attempt-ids-are-fencing-tokens.md, 0002-dead-workers-by-session-lock.md,
// 0003-no-fencing-during-a-disruption.md.
import { findTask } from '../core/dag-lookup.js';
import { NO_RETRIES } from '../core/retry-policy.js';
import type { SerializedDag } from '../core/types.js';
import type { Database, Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { COMPONENT_LOCK_CLASS } from '../ha/session.js';
import type { Logger } from '../log.js';
import { endAttempt } from './end-attempt.js';
import { OutageGrace, orphanProvenGone } from './grace.js';
import { PROCESS_NAMESPACE, processGone } from './process-namespace.js';

export interface AttemptFencingOptions {
  batchSize: number;
  componentId: string | null;
  dbOutageGraceSec: number;
  /** Heartbeat age after which a worker without its session lock is gone. */
  workerLostAfterSec: number;
}

interface FenceCandidate {
  id: string;
  dag_run_id: string;
  task_id: string;
  attempt_id: string;
  try_number: number;
  max_tries: number;
  worker_id: string | null;
  serialized: SerializedDag;
}

export class AttemptFencing {
  private readonly grace: OutageGrace;

  constructor(private readonly db: Database, private readonly opts: AttemptFencingOptions, private readonly log: Logger) {
    this.grace = new OutageGrace(opts.dbOutageGraceSec);
  }

  /** Whether this sweeper has been up for the outage grace, so that it may act on lock absence alone. */
  settled(): boolean {
    return this.grace.observedLongEnough();
  }

  /** Attempts whose lease expired: fenced, then retried or failed per their task's policy. Returns how many. */
  async fenceExpired(): Promise<number> {
    return this.db.inTransaction(async (tx) => {
      const rows = await tx.query<FenceCandidate & { lease_expires_at: Date }>(sql('fencing/task_instances_lock_expired'), [this.opts.batchSize, this.grace.graceSec]);
      for (const ti of rows.rows) {
        await this.fence(tx, ti, 'lease_expired',
          `attempt fenced: its worker did not renew the lease (expired ${ti.lease_expires_at.toISOString()}); the worker froze, lost the database or died`);
      }
      return rows.rows.length;
    });
  }

  /**
   * Attempts whose worker process is gone: fenced now rather than at lease expiry. Within
   * this sweeper's own grace, only those whose process is shown to have died. Returns how many.
   */
  async fenceOrphaned(): Promise<number> {
    const settled = this.grace.observedLongEnough();
    return this.db.inTransaction(async (tx) => {
      const rows = await tx.query<FenceCandidate & { last_heartbeat_at: Date; pid: number; process_namespace: string | null }>(sql('fencing/task_instances_lock_orphaned'), [
        this.opts.batchSize, this.grace.graceSec, this.opts.workerLostAfterSec, COMPONENT_LOCK_CLASS,
      ]);
      let orphans = rows.rows;
      if (!settled && orphans.length > 0) {
        const oldest = (await tx.query<{ oldest: Date | null }>(sql('fencing/component_sessions_oldest_start'), [COMPONENT_LOCK_CLASS])).rows[0]?.oldest ?? null;
        const evidence = { oldestSurvivingSession: oldest, processNamespace: PROCESS_NAMESPACE, processGone };
        orphans = orphans.filter((ti) => orphanProvenGone({ lastHeartbeatAt: ti.last_heartbeat_at, pid: ti.pid, processNamespace: ti.process_namespace }, evidence));
      }
      for (const ti of orphans) {
        await this.fence(tx, ti, 'worker_gone',
          `attempt fenced: its worker process is gone (session closed, last heartbeat ${ti.last_heartbeat_at.toISOString()})`);
      }
      return orphans.length;
    });
  }

  private async fence(tx: Tx, ti: FenceCandidate, reason: string, error: string): Promise<void> {
    const task = findTask(ti.serialized, ti.task_id);
    const ended = await endAttempt(tx, {
      taskInstanceId: ti.id, attemptId: ti.attempt_id, tryNumber: ti.try_number, maxTries: ti.max_tries, policy: task ?? NO_RETRIES, task, retryNow: true,
      outcome: { kind: 'failure', error, attemptState: 'fenced' }, componentId: this.opts.componentId,
    });
    await tx.query(sql('ha/ha_event_insert'), ['zombie_fenced', this.opts.componentId, {
      reason, taskInstanceId: ti.id, dagRunId: ti.dag_run_id, taskId: ti.task_id, attemptId: ti.attempt_id, workerId: ti.worker_id, next: ended.state,
    }]);
    this.log.warn({ taskId: ti.task_id, attemptId: ti.attempt_id, reason, next: ended.state }, 'attempt fenced');
  }
}
