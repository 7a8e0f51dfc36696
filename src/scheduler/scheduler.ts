// The scheduler role. Every copy runs every duty; row locks decide who does which part:
// SKIP LOCKED for DAGs, runs and task instances, a transaction-level try-lock plus
// NOWAIT pool rows for the queueing budget (a scheduler that loses it does other work).
// Lock order everywhere: dag → dag_run → task_instance → pool.
import { dueIntervals } from '../core/schedule.js';
import { decideRun, type TaskInstanceView } from '../core/run-decision.js';
import { pickToQueue, type QueueCandidate } from '../core/queueing.js';
import type { SerializedDag, TaskState } from '../core/types.js';
import type { Db, Tx } from '../db/pool.js';
import { isTransientDbError } from '../db/transient.js';
import { recordDisruption } from '../ha/disruption.js';
import { COMPONENT_LOCK_CLASS } from '../ha/session.js';
import { inTransaction } from '../db/pool.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../log.js';
import { computeNextDue, lastScheduledLogicalDate } from '../dag-processor/store.js';
import { endAttempt } from '../ha/end-attempt.js';
import { findTask } from '../core/dag-lookup.js';
import { createRun, runIdFor } from './create-run.js';

export interface SchedulerOptions {
  batchSize: number;
  maxCatchupRunsPerLoop: number;
  componentId: string | null;
  dbOutageGraceSec: number;
  workerLostAfterSec: number;
  componentDeadAfterSec: number;
  /** Called when this scheduler lost a race for the queueing budget and did other work. */
  onContention?: (lock: 'queue_lock' | 'pool_rows') => void;
}

/** "keel queueing critical section" */
export const QUEUE_LOCK_KEY = 7_283_310_002;

export interface TickStats {
  runsCreated: number;
  runsStarted: number;
  runsExamined: number;
  /** Task instances whose state a decision changed. */
  decisions: number;
  runsFinished: number;
  queued: number;
  fenced: number;
}

export class Scheduler {
  private readonly startedAt = performance.now();
  /** A turn failed on a lost connection: record the disruption once the database answers again. */
  private disrupted = false;

  constructor(private readonly db: Db, private readonly opts: SchedulerOptions, private readonly log: Logger) {}

  /** One loop turn. `hintedRunIds` come from NOTIFY wake-ups and are examined first. */
  async tick(hintedRunIds: string[] = []): Promise<TickStats> {
    try {
      return await this.turn(hintedRunIds);
    } catch (err) {
      if (isTransientDbError(err)) this.disrupted = true;
      throw err;
    }
  }

  private async turn(hintedRunIds: string[]): Promise<TickStats> {
    if (this.disrupted) {
      await recordDisruption(this.db, this.opts.componentId, 'scheduler reconnected after losing the database');
      this.disrupted = false;
    }
    const stats: TickStats = { runsCreated: 0, runsStarted: 0, runsExamined: 0, decisions: 0, runsFinished: 0, queued: 0, fenced: 0 };
    stats.runsCreated = await this.createDueRuns();
    stats.runsStarted = await this.startQueuedRuns();
    const examined = await this.examineRuns(hintedRunIds);
    stats.runsExamined = examined.examined;
    stats.runsFinished = examined.finished;
    stats.decisions = examined.decisions;
    stats.queued = await this.queueScheduled();
    stats.fenced = (await this.fenceOrphanedAttempts()) + (await this.fenceExpiredAttempts());
    await this.markDeadComponents();
    return stats;
  }

  /** Whether a tick changed something, so that another may find more to do at once. */
  static progressed(s: TickStats): boolean {
    return s.runsCreated + s.runsStarted + s.decisions + s.runsFinished + s.queued + s.fenced > 0;
  }

  /** Scheduled runs whose data interval has ended. */
  async createDueRuns(): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      const due = await tx.query<{ dag_id: string; serialized: SerializedDag; version_hash: string; now: Date }>(sql('dag_lock_due'), [this.opts.batchSize]);
      let created = 0;
      for (const d of due.rows) {
        const dag = d.serialized;
        let last = await lastScheduledLogicalDate(tx, dag.dagId);
        const intervals = dueIntervals({
          schedule: dag.schedule, startDate: new Date(dag.startDate), endDate: dag.endDate ? new Date(dag.endDate) : null,
          lastLogicalDate: last, now: d.now, catchup: dag.catchup, limit: this.opts.maxCatchupRunsPerLoop,
        });
        for (const iv of intervals) {
          const id = await createRun(tx, dag, d.version_hash, {
            runId: runIdFor('scheduled', iv.logicalDate), runType: 'scheduled', logicalDate: iv.logicalDate,
            dataIntervalStart: iv.start, dataIntervalEnd: iv.end, params: defaultParams(dag),
          });
          if (id) {
            created++;
            this.log.info({ dag: dag.dagId, logicalDate: iv.logicalDate.toISOString(), runId: id }, 'scheduled run created');
          }
          last = iv.logicalDate;
        }
        await tx.query(sql('dag_set_next_dagrun'), [dag.dagId, computeNextDue(dag, last, d.now)]);
      }
      return created;
    });
  }

  /** Queued runs start when their DAG is under max_active_runs. */
  async startQueuedRuns(): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      const dags = await tx.query<{ dag_id: string; max_active_runs: number }>(sql('dag_lock_with_queued_runs'), [this.opts.batchSize]);
      let started = 0;
      for (const d of dags.rows) {
        const r = await tx.query(sql('dag_run_start_queued'), [d.dag_id, d.max_active_runs]);
        started += r.rowCount ?? 0;
        for (const row of r.rows as { id: string }[]) await tx.query(sql('notify_scheduler'), [row.id]);
      }
      return started;
    });
  }

  /** Trigger rules, due retries and run completion, for runs no other scheduler holds. */
  async examineRuns(hintedRunIds: string[]): Promise<{ examined: number; decisions: number; finished: number }> {
    return inTransaction(this.db, async (tx) => {
      const runs = await tx.query<{ id: string; dag_id: string; serialized: SerializedDag }>(sql('dag_run_lock_running'), [hintedRunIds, this.opts.batchSize]);
      if (runs.rows.length === 0) return { examined: 0, decisions: 0, finished: 0 };
      const runIds = runs.rows.map((r) => r.id);
      const tis = await tx.query<{ id: string; dag_run_id: string; task_id: string; state: TaskState; retry_due: boolean }>(sql('task_instances_of_runs'), [runIds]);
      const byRun = new Map<string, TaskInstanceView[]>();
      for (const t of tis.rows) {
        const list = byRun.get(t.dag_run_id) ?? [];
        list.push({ id: t.id, taskId: t.task_id, state: t.state, retryDue: t.retry_due });
        byRun.set(t.dag_run_id, list);
      }
      const ids: string[] = [];
      const states: string[] = [];
      let finished = 0;
      for (const run of runs.rows) {
        const decision = decideRun(run.serialized, byRun.get(run.id) ?? []);
        for (const c of decision.changes) {
          ids.push(c.id);
          states.push(c.to);
        }
        if (decision.runState !== 'running') {
          await tx.query(sql('dag_run_finish'), [run.id, decision.runState]);
          finished++;
          this.log.info({ dag: run.dag_id, runId: run.id, state: decision.runState }, `run ${decision.runState}`);
        }
      }
      if (ids.length) await tx.query(sql('task_instances_apply_decisions'), [ids, states]);
      await tx.query(sql('dag_run_mark_examined'), [runIds]);
      return { examined: runs.rows.length, decisions: ids.length, finished };
    });
  }

  /** The budget step: pools and max_active_tasks, highest priority first. */
  async queueScheduled(): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      const lock = await tx.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [QUEUE_LOCK_KEY]);
      if (!lock.rows[0]?.got) {
        this.opts.onContention?.('queue_lock');
        return 0;
      }
      const rows = await tx.query<{ id: string; dag_run_id: string; pool: string; pool_slots: number; priority_weight: number; scheduled_at: Date; max_active_tasks: number }>(
        sql('task_instances_lock_scheduled'), [this.opts.batchSize * 4],
      );
      if (rows.rows.length === 0) return 0;
      let pools;
      try {
        await tx.query('SAVEPOINT pools');
        pools = await tx.query<{ name: string; slots: number }>(sql('pools_lock'));
      } catch (err) {
        if ((err as { code?: string }).code !== '55P03') throw err;
        await tx.query('ROLLBACK TO SAVEPOINT pools');
        this.opts.onContention?.('pool_rows');
        return 0; // a pool is being changed right now; queue on the next turn
      }
      const used = new Map((await tx.query<{ pool: string; used: number }>(sql('pool_occupancy'))).rows.map((r) => [r.pool, r.used]));
      const openPoolSlots = new Map(pools.rows.map((p) => [p.name, p.slots - (used.get(p.name) ?? 0)]));
      const runIds = [...new Set(rows.rows.map((r) => r.dag_run_id))];
      const active = new Map((await tx.query<{ dag_run_id: string; active: number }>(sql('run_active_task_counts'), [runIds])).rows.map((r) => [r.dag_run_id, r.active]));
      const maxActive = new Map(rows.rows.map((r) => [r.dag_run_id, r.max_active_tasks]));
      const candidates: QueueCandidate[] = rows.rows.map((r) => ({
        id: r.id, dagRunId: r.dag_run_id, pool: r.pool, poolSlots: r.pool_slots, priorityWeight: r.priority_weight, scheduledAt: r.scheduled_at,
      }));
      const chosen = pickToQueue({ candidates, openPoolSlots, activeTasksPerRun: active, maxActiveTasksPerRun: maxActive, limit: this.opts.batchSize });
      if (chosen.length === 0) return 0;
      await tx.query(sql('task_instances_queue'), [chosen]);
      return chosen.length;
    });
  }

  /** Attempts whose lease expired: fence them and retry or fail per their policy. */
  async fenceExpiredAttempts(): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      const rows = await tx.query<FenceCandidate & { lease_expires_at: Date }>(sql('task_instances_lock_expired'), [this.opts.batchSize, this.opts.dbOutageGraceSec]);
      for (const ti of rows.rows) {
        await this.fence(tx, ti, 'lease_expired', false,
          `attempt fenced: its worker did not renew the lease (expired ${ti.lease_expires_at.toISOString()}); the worker froze, lost the database or died`);
      }
      return rows.rows.length;
    });
  }

  /**
   * Attempts whose worker process is gone (session lock released, heartbeat stale): fence
   * them now rather than at lease expiry, and retry at once — the task did not fail.
   * A scheduler that has not been up for the grace period yet leaves this to its peers: it
   * cannot tell a dead worker from one still reconnecting after a disruption it never saw.
   */
  async fenceOrphanedAttempts(): Promise<number> {
    if (performance.now() - this.startedAt < this.opts.dbOutageGraceSec * 1000) return 0;
    return inTransaction(this.db, async (tx) => {
      const rows = await tx.query<FenceCandidate & { last_heartbeat_at: Date }>(sql('task_instances_lock_orphaned'), [
        this.opts.batchSize, this.opts.dbOutageGraceSec, this.opts.workerLostAfterSec, COMPONENT_LOCK_CLASS,
      ]);
      for (const ti of rows.rows) {
        await this.fence(tx, ti, 'worker_gone', true,
          `attempt fenced: its worker process is gone (session closed, last heartbeat ${ti.last_heartbeat_at.toISOString()})`);
      }
      return rows.rows.length;
    });
  }

  private async fence(tx: Tx, ti: FenceCandidate, reason: string, retryNow: boolean, error: string): Promise<void> {
    const task = findTask(ti.serialized, ti.task_id);
    const policy = task ?? { retries: 0, retryDelaySec: 0, exponentialBackoff: false, maxRetryDelaySec: 0 };
    const ended = await endAttempt(tx, {
      taskInstanceId: ti.id, attemptId: ti.attempt_id, tryNumber: ti.try_number, maxTries: ti.max_tries, policy, retryNow,
      outcome: { kind: 'failure', error, attemptState: 'fenced' }, componentId: this.opts.componentId,
    });
    await tx.query(sql('ha_event_insert'), ['zombie_fenced', this.opts.componentId, {
      reason, taskInstanceId: ti.id, dagRunId: ti.dag_run_id, taskId: ti.task_id, attemptId: ti.attempt_id, workerId: ti.worker_id, next: ended.state,
    }]);
    this.log.warn({ taskId: ti.task_id, attemptId: ti.attempt_id, reason, next: ended.state }, 'attempt fenced');
  }

  /** Components whose heartbeat is stale are marked dead (each with an HA event). */
  async markDeadComponents(): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      const dead = await tx.query<{ id: string; role: string; hostname: string; pid: number; last_heartbeat_at: Date }>(
        sql('component_mark_dead'), [this.opts.componentDeadAfterSec, this.opts.dbOutageGraceSec],
      );
      for (const c of dead.rows) {
        await tx.query(sql('ha_event_insert'), ['component_dead', c.id, { role: c.role, hostname: c.hostname, pid: c.pid, lastHeartbeatAt: c.last_heartbeat_at, detectedBy: this.opts.componentId }]);
        this.log.warn({ component: c.id, role: c.role, host: c.hostname, pid: c.pid }, 'component marked dead: heartbeat stale');
      }
      return dead.rows.length;
    });
  }
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

function defaultParams(dag: SerializedDag): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(dag.params)) if (spec.default !== undefined) out[name] = spec.default;
  return out;
}

