// The scheduler role. Every copy runs every duty; row locks decide who does which part:
// SKIP LOCKED for DAGs, runs and task instances, a transaction-level advisory lock (with a
// short bounded wait) plus NOWAIT pool rows for the queueing budget.
// Lock order everywhere: dag → dag_run → task_instance → pool.
import { dueIntervals } from '../core/schedule.js';
import type { SerializedDag } from '../core/types.js';
import { DagVersionCache } from '../db/dag-versions.js';
import type { Database } from '../db/database.js';
import { isTransientDbError } from '../db/transient.js';
import { recordDisruption } from '../fencing/disruption.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../log.js';
import { computeNextDue, lastScheduledLogicalDate } from '../runs/next-due.js';
import { AttemptFencing } from '../fencing/sweeps.js';
import { createRun, defaultParams, runIdFor } from '../runs/create-run.js';
import { maintenanceOn } from '../ha/operator-notice.js';
import { takeBackLostCallbacks } from '../runs/callbacks.js';
import { failTimedOutRuns, judgeDeadlines } from '../runs/run-limits.js';
import { decideLockedRuns, queueScheduled, type LockedRun, type QueueResult } from '../runs/run-steps.js';
import { driveBackfills, type DriveResult } from '../runs/backfill.js';

export { QUEUE_LOCK_KEY } from '../runs/run-steps.js';

export interface SchedulerOptions {
  batchSize: number;
  maxCatchupRunsPerLoop: number;
  componentId: string | null;
  dbOutageGraceSec: number;
  workerLostAfterSec: number;
  componentDeadAfterSec: number;
  /** Periodic duties (due runs, the safety-net examination, fencing) run at most this often on wake-up turns; default: every turn. */
  periodicMs?: number;
  /** Called when this scheduler lost a race for the queueing budget and did other work. */
  onContention?: (lock: 'queue_lock' | 'pool_rows') => void;
}

/** A running run is looked at again after this long even without a wake-up (lost notifications). */
const EXAMINE_AGAIN_AFTER_SEC = 10;

export interface TickStats {
  runsCreated: number;
  /** Backfill runs created or cleared. */
  backfillRuns: number;
  runsStarted: number;
  runsExamined: number;
  /** Task instances whose state a decision changed. */
  decisions: number;
  runsFinished: number;
  queued: number;
  fenced: number;
  /** A step hit its batch limit or made new work: more may be waiting. */
  full: boolean;
  /** The queueing budget was held by another transaction: turn again shortly. */
  queueContended: boolean;
  /** Hinted runs another transaction held: what it saw may predate their news, so look again shortly. */
  skippedHints: string[];
}

export class Scheduler {
  /** A turn failed on a lost connection: record the disruption once the database answers again. */
  private disrupted = false;
  private readonly dags = new DagVersionCache();
  /** performance.now() of the last turn that ran the periodic duties. */
  private lastPeriodicAt = -Infinity;

  private readonly fencing: AttemptFencing;

  constructor(private readonly db: Database, private readonly opts: SchedulerOptions, private readonly log: Logger) {
    this.fencing = new AttemptFencing(db, opts, log);
  }

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
    const stats: TickStats = { runsCreated: 0, backfillRuns: 0, runsStarted: 0, runsExamined: 0, decisions: 0, runsFinished: 0, queued: 0, fenced: 0, full: false, queueContended: false, skippedHints: [] };
    // A turn woken for particular runs does only what moves them; the periodic duties
    // (due runs, every run that needs a look, fencing, dead components) run once per loop interval.
    const periodic = hintedRunIds.length === 0 || performance.now() - this.lastPeriodicAt >= (this.opts.periodicMs ?? 0);
    // Maintenance mode: no new runs and none started; running ones are still decided and finished.
    const maintenance = await maintenanceOn(this.db);
    if (periodic) {
      this.lastPeriodicAt = performance.now();
      if (!maintenance) stats.runsCreated = await this.createDueRuns();
    }
    if (!maintenance) stats.runsStarted = await this.startQueuedRuns();
    const examined = await this.examineRuns(hintedRunIds, periodic);
    stats.runsExamined = examined.examined;
    stats.skippedHints = examined.skippedHints;
    stats.runsFinished = examined.finished;
    stats.decisions = examined.decisions;
    // After the examination, so that a backfill run that just ended frees its slot this turn.
    if (!maintenance && (periodic || examined.finished > 0)) stats.backfillRuns = (await this.driveBackfills()).started;
    const queued = await this.queueScheduled();
    stats.queued = queued.queued;
    stats.queueContended = queued.contended;
    if (periodic) {
      stats.fenced = await this.fenceExpiredAttempts();
      await this.markDeadComponents();
      stats.runsFinished += await this.enforceRunLimits();
    }
    stats.full = examined.examined >= this.opts.batchSize || stats.queued >= this.opts.batchSize || stats.runsCreated > 0 || stats.backfillRuns > 0 || stats.fenced > 0;
    return stats;
  }

  /** Whether a step hit its batch limit (or made new work), so that another turn should follow at once. */
  static progressed(s: TickStats): boolean {
    return s.full;
  }

  /** Scheduled runs whose data interval has ended. */
  async createDueRuns(): Promise<number> {
    return this.db.inTransaction(async (tx) => {
      const due = await tx.query<{ dag_id: string; serialized: SerializedDag; version_hash: string; now: Date }>(sql('scheduler/dag_lock_due'), [this.opts.batchSize]);
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
            this.log.info({ dagId: dag.dagId, logicalDate: iv.logicalDate.toISOString(), runId: id }, 'scheduled run created');
          }
          last = iv.logicalDate;
        }
        await tx.query(sql('scheduler/dag_set_next_dagrun'), [dag.dagId, computeNextDue(dag, last, d.now)]);
      }
      return created;
    });
  }

  /** Running backfills this scheduler holds get their next runs, up to their max_active_runs (src/runs/backfill.ts). */
  async driveBackfills(): Promise<DriveResult> {
    return driveBackfills(this.db, { batchSize: this.opts.batchSize, lifecycle: { workerLostAfterSec: this.opts.workerLostAfterSec, dbOutageGraceSec: this.opts.dbOutageGraceSec } }, this.log);
  }

  /** Queued runs start when their DAG is under max_active_runs. */
  async startQueuedRuns(): Promise<number> {
    return this.db.inTransaction(async (tx) => {
      const dags = await tx.query<{ dag_id: string; max_active_runs: number }>(sql('scheduler/dag_lock_with_queued_runs'), [this.opts.batchSize]);
      let started = 0;
      for (const d of dags.rows) {
        const r = await tx.query(sql('runs/dag_run_start_queued'), [d.dag_id, d.max_active_runs]);
        started += r.rowCount ?? 0;
        for (const row of r.rows as { id: string }[]) await tx.query(sql('db/notify_scheduler'), [row.id]);
      }
      return started;
    });
  }

  /** Trigger rules, due retries and run completion, for runs no other scheduler holds. */
  async examineRuns(hintedRunIds: string[], periodic: boolean): Promise<{ examined: number; decisions: number; finished: number; skippedHints: string[] }> {
    return this.db.inTransaction(async (tx) => {
      const runs = await tx.query<LockedRun>(sql('scheduler/dag_run_lock_running'), [hintedRunIds, this.opts.batchSize, EXAMINE_AGAIN_AFTER_SEC, periodic]);
      const result = await decideLockedRuns(tx, runs.rows, this.dags, this.log);
      const locked = new Set(runs.rows.map((r) => r.id));
      const missed = runs.rows.length < this.opts.batchSize ? hintedRunIds.filter((id) => !locked.has(id)) : [];
      const skippedHints = missed.length ? (await tx.query<{ id: string }>(sql('scheduler/dag_runs_still_running'), [missed])).rows.map((r) => r.id) : [];
      return { examined: runs.rows.length, ...result, skippedHints };
    });
  }

  async queueScheduled(): Promise<QueueResult> {
    return this.db.inTransaction((tx) => queueScheduled(tx, { batchSize: this.opts.batchSize, dags: this.dags, onContention: this.opts.onContention }));
  }

  /** Attempts whose lease expired are fenced (src/fencing/sweeps.ts). */
  async fenceExpiredAttempts(): Promise<number> {
    return this.fencing.fenceExpired();
  }

  /** Attempts whose worker process is gone are fenced (src/fencing/sweeps.ts); runtime/roles.ts runs this more often than the main turn. */
  async fenceOrphanedAttempts(): Promise<number> {
    const fenced = await this.fencing.fenceOrphaned();
    // Callbacks of a dead worker: by lock absence only once this sweeper is up for the grace (no evidence path).
    if (this.fencing.settled()) await takeBackLostCallbacks(this.db, this.opts, this.log, 'orphaned');
    return fenced;
  }

  /**
   * Run timeouts and deadlines (src/runs/run-limits.ts), and callbacks whose lease expired
   * (src/runs/callbacks.ts). Returns the runs failed by their timeout.
   */
  async enforceRunLimits(): Promise<number> {
    const failed = await failTimedOutRuns(this.db, this.opts, this.log);
    await judgeDeadlines(this.db, this.opts, this.log);
    await takeBackLostCallbacks(this.db, this.opts, this.log, 'expired');
    return failed;
  }

  /** Components whose heartbeat is stale are marked dead (each with an HA event). */
  async markDeadComponents(): Promise<number> {
    return this.db.inTransaction(async (tx) => {
      const dead = await tx.query<{ id: string; role: string; hostname: string; pid: number; last_heartbeat_at: Date }>(
        sql('scheduler/component_mark_dead'), [this.opts.componentDeadAfterSec, this.opts.dbOutageGraceSec],
      );
      for (const c of dead.rows) {
        await tx.query(sql('ha/ha_event_insert'), ['component_dead', c.id, { role: c.role, hostname: c.hostname, pid: c.pid, lastHeartbeatAt: c.last_heartbeat_at, detectedBy: this.opts.componentId }]);
        this.log.warn({ componentId: c.id, role: c.role, host: c.hostname, pid: c.pid }, 'component marked dead: heartbeat stale');
      }
      return dead.rows.length;
    });
  }
}

