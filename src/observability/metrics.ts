// Prometheus metrics of one Keel process, named by Prometheus conventions (counters end in
// `_total`, units in names, histograms in `_seconds`). Cluster-wide numbers (HA events,
// task counts and outcomes, run durations, heartbeat ages) are read from the database at
// scrape time, so every copy reports the same truth: aggregate them with max(), not sum().
import client from 'prom-client';
import type { Database } from '../db/database.js';
import { readDatabaseStatus } from '../ha/db-status.js';
import type { PrimaryCheck } from '../ha/session.js';
import { sql } from '../db/sql.js';
import { maintenanceOn } from '../ha/operator-notice.js';

/** Bounds of keel_dag_run_duration_seconds: from a one-task run to a long nightly batch. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 10800, 21600, 86400];

export interface KeelMetricsOptions {
  /** Copies each role is meant to run (expectedCopies). */
  expectedCopies: Readonly<Record<string, number>>;
  flapWindowSec: number;
  flapThreshold: number;
}

const NO_EXPECTATIONS: KeelMetricsOptions = { expectedCopies: {}, flapWindowSec: 600, flapThreshold: 2 };

export class KeelMetrics {
  readonly registry = new client.Registry();
  readonly queueWaitSeconds: client.Histogram<'queue'>;
  readonly loopSeconds: client.Histogram<'role'>;
  readonly lockContention: client.Counter<'lock'>;
  readonly parseSeconds: client.Histogram<'outcome'>;
  /** DAG file leases this process holds (set by a DAG processor). */
  fileLeases: (() => number) | null = null;
  /** The last split-brain check of this process's session (set by roles.ts). */
  primaryCheck: (() => PrimaryCheck | null) | null = null;
  /** Loop turns of this process's role (set by roles.ts). */
  loopTurns: (() => { role: string; turns: number }) | null = null;
  /** Triggers this process holds and may hold (set by a triggerer). */
  triggers: (() => { held: number; capacity: number }) | null = null;
  readonly triggersFired: client.Counter<'kind' | 'outcome'>;
  readonly triggerWaitSeconds: client.Histogram<'kind'>;

  constructor(db: Database, opts: KeelMetricsOptions = NO_EXPECTATIONS) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'keel_' });
    // prom-client names these three gauges `_total`, which Prometheus reserves for counters
    // (promtool check metrics refuses them); the event-loop and heap metrics stay.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) this.registry.removeSingleMetric(`keel_nodejs_${name}`);
    this.loopSeconds = new client.Histogram({
      name: 'keel_loop_duration_seconds', help: 'Duration of one turn of the role loop (role="scheduler" is the scheduler loop)', labelNames: ['role'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
    });
    this.lockContention = new client.Counter({
      name: 'keel_lock_contention_total', help: 'Races for a shared budget this process lost (it did other work instead)', labelNames: ['lock'], registers: [this.registry],
    });
    this.parseSeconds = new client.Histogram({
      name: 'keel_dag_file_parse_seconds', help: 'Time to load one DAG file in its loader process, by outcome (loaded or failed)', labelNames: ['outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers: [this.registry],
    });
    this.triggersFired = new client.Counter({
      name: 'keel_triggers_fired_total', help: 'Triggers this process fired, by kind and outcome (resumed, lost to another holder, cancelled)', labelNames: ['kind', 'outcome'], registers: [this.registry],
    });
    this.triggerWaitSeconds = new client.Histogram({
      name: 'keel_trigger_wait_seconds', help: 'Time from deferral to firing of the triggers this process fired', labelNames: ['kind'],
      buckets: [0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400], registers: [this.registry],
    });
    this.queueWaitSeconds = new client.Histogram({
      name: 'keel_task_queue_wait_seconds', help: 'Time task instances claimed by this process waited in their queue (queued to claimed)', labelNames: ['queue'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900], registers: [this.registry],
    });
    const turns = () => this.loopTurns?.() ?? null;
    new client.Counter({
      name: 'keel_loop_turns_total', help: 'Turns of the role loop (the liveness probe reads the time of the last one)', labelNames: ['role'], registers: [this.registry],
      collect() {
        const t = turns();
        this.reset();
        if (t) this.inc({ role: t.role }, t.turns);
      },
    });
    const triggers = () => this.triggers?.() ?? { held: 0, capacity: 0 };
    new client.Gauge({
      name: 'keel_triggers_held', help: 'Triggers this process holds (a triggerer runs them)', registers: [this.registry],
      collect() { this.set(triggers().held); },
    });
    new client.Gauge({
      name: 'keel_triggerer_capacity', help: 'Triggers this process may hold at once', registers: [this.registry],
      collect() { this.set(triggers().capacity); },
    });
    const leases = () => this.fileLeases?.() ?? 0;
    new client.Gauge({
      name: 'keel_dag_file_leases', help: 'DAG files whose lease this process holds (it parses them)', registers: [this.registry],
      collect() { this.set(leases()); },
    });
    // prom-client collects all metrics of a scrape concurrently: the database gauges share
    // one refresh per scrape.
    let pending: Promise<void> | null = null;
    const refresh = () => {
      pending ??= readDatabase().finally(() => setImmediate(() => { pending = null; }));
      return pending;
    };
    const gauge = (name: string, help: string, labelNames: string[] = []) =>
      new client.Gauge({ name, help, labelNames, registers: [this.registry], collect: refresh });
    // A counter whose value is read from the database (or the process's own tallies) at scrape time.
    const counter = (name: string, help: string, labelNames: string[] = []) => {
      const c = new client.Counter({ name, help, labelNames, registers: [this.registry], collect: refresh });
      return {
        reset: () => c.reset(),
        set: (labels: Record<string, string>, value: number) => { c.remove(labels); c.inc(labels, value); },
      };
    };
    const runDurations = new DatabaseHistogram('keel_dag_run_duration_seconds', 'Duration of finished DAG runs (start to end), by DAG and final state (cluster-wide)', ['dag_id', 'state'], RUN_DURATION_BUCKETS, refresh);
    this.registry.registerMetric(runDurations as unknown as client.Metric);
    const expected = gauge('keel_role_copies_expected', 'Copies of each role the deployment is meant to run (expectedCopies)', ['role']);
    for (const [role, n] of Object.entries(opts.expectedCopies)) expected.set({ role }, n);
    const scrapeOk = gauge('keel_scrape_ok', '1 when the database answered this scrape');
    const haEvents = counter('keel_ha_events_total', 'HA events recorded, by kind (cluster-wide)', ['kind']);
    const attempts = counter('keel_task_attempts_total', 'Task attempts that ended, by DAG and outcome (success, failed, fenced, handed_back, deferred; cluster-wide)', ['dag_id', 'state']);
    const deadlinesMissed = counter('keel_dag_run_deadlines_missed_total', 'DAG runs that were not finished by their deadline, by DAG (cluster-wide; each run counted once)', ['dag_id']);
    const callbacks = counter('keel_callbacks_total', 'Callbacks that ended, by kind (on_success, on_failure, on_retry, on_deadline_missed) and outcome (cluster-wide)', ['kind', 'state']);
    const components = gauge('keel_components', 'Live components, by role and host (cluster-wide; standalone counts as one of each role)', ['role', 'hostname']);
    const queued = gauge('keel_task_queue_length', 'Task instances waiting in each queue (cluster-wide)', ['queue']);
    const oldestWait = gauge('keel_task_queue_oldest_wait_seconds', 'How long the oldest queued task instance of each queue has waited (cluster-wide)', ['queue']);
    const queueWorkers = gauge('keel_queue_workers', 'Live workers that take each queue (cluster-wide): 0 with tasks queued is work nobody can take', ['queue']);
    const maintenance = gauge('keel_maintenance_mode', '1 while maintenance mode is on (keel maintenance on): no runs are created or queued');
    const backupAge = gauge('keel_backup_last_age_seconds', 'Seconds since the last finished `keel backup` (absent when there was none): alert when it grows past the backup schedule');
    const triggersUnheld = gauge('keel_triggers_unheld', 'Waiting triggers no live triggerer holds (cluster-wide backlog)');
    const flapping = gauge('keel_components_flapping', `Components declared dead and rejoining more than flapThreshold (${opts.flapThreshold}) times in flapWindowSec (${opts.flapWindowSec} s), by role`, ['role']);
    const flaps = gauge('keel_component_flaps', `Times each component was declared dead and rejoined in the last flapWindowSec (${opts.flapWindowSec} s); only components with one or more`, ['role', 'component']);
    const tasks = gauge('keel_task_instances', 'Task instances not yet final, by state and queue (cluster-wide)', ['state', 'queue']);
    const heartbeat = gauge('keel_component_heartbeat_age_seconds', 'Age of the last heartbeat of each live component', ['role', 'component', 'hostname']);
    const importErrors = gauge('keel_dag_import_errors', 'DAG files that failed to load at their last parse (cluster-wide)');
    const pool = gauge('keel_db_pool_connections', 'Database pool connections of this process', ['state']);
    const dbTimeline = gauge('keel_db_timeline', 'Timeline of the database server this process reaches (a failover raises it)');
    const dbInRecovery = gauge('keel_db_in_recovery', '1 when the server this process reaches is in recovery (a replica or demoted primary)');
    const replicaLagBytes = gauge('keel_db_replica_lag_bytes', 'Replay lag of each replica streaming from the primary, in bytes (pg_stat_replication)', ['replica', 'sync_state']);
    const replicaLagSec = gauge('keel_db_replica_lag_seconds', 'Replay lag of each replica streaming from the primary, in seconds (0 when idle and caught up)', ['replica', 'sync_state']);
    const hostChanges = counter('keel_db_host_changes_total', 'Times a multi-host URL of this process moved to another host (failovers seen)');
    const fit = gauge('keel_db_session_fit', "1 while this process's session is on the primary the database URL reaches; 0 when it found itself on a demoted or isolated primary and stopped taking work");
    const readRoute = gauge('keel_db_read_route_replica', '1 while heavy API reads go to the read replica, 0 while they go to the primary');
    const readReplicaLag = gauge('keel_db_read_replica_lag_seconds', 'Replay lag of the read replica as the read router last measured it');
    const reads = counter('keel_db_heavy_reads_total', 'Heavy API reads served by this process, by target', ['target']);
    const reachable = gauge('keel_db_reachable', '0 while this process has lost its database (a connection failed and no call or probe got through since), else 1');
    const outages = counter('keel_db_outages_total', 'Database outages this process saw end (lost, then reached again)');
    const unreachableSeconds = counter('keel_db_unreachable_seconds_total', 'Time this process spent without its database, over all the outages it saw end (first failed call to the first that got through)');
    const readDatabase = async () => {
      const availability = db.availability;
      reachable.set(availability.unreachable ? 0 : 1);
      outages.set({}, availability.outages);
      unreachableSeconds.set({}, availability.outageMsTotal / 1000);
      const connections = db.poolStats();
      pool.set({ state: 'total' }, connections.total);
      pool.set({ state: 'idle' }, connections.idle);
      pool.set({ state: 'waiting' }, connections.waiting);
      const check = this.primaryCheck?.() ?? null;
      if (check) fit.set(check.verdict.fit ? 1 : 0);
      try {
        const status = await readDatabaseStatus(db);
        dbTimeline.set(status.timeline);
        dbInRecovery.set(status.role === 'replica' ? 1 : 0);
        replicaLagBytes.reset();
        replicaLagSec.reset();
        for (const r of status.replicas) {
          replicaLagBytes.set({ replica: r.name, sync_state: r.sync_state }, r.replay_lag_bytes ?? 0);
          replicaLagSec.set({ replica: r.name, sync_state: r.sync_state }, r.replay_lag_sec ?? 0);
        }
        hostChanges.set({}, status.hosts.reduce((n, h) => n + h.changes, 0));
        if (status.reads.configured) {
          readRoute.set(status.reads.route.use === 'replica' ? 1 : 0);
          if (status.reads.route.lagMs !== null) readReplicaLag.set(status.reads.route.lagMs / 1000);
          reads.set({ target: 'replica' }, status.reads.servedByReplica);
          reads.set({ target: 'primary' }, status.reads.servedByPrimary);
        }
        haEvents.reset();
        for (const r of (await db.query<{ kind: string; n: number }>(sql('observability/metrics_ha_events'))).rows) haEvents.set({ kind: r.kind }, r.n);
        tasks.reset();
        for (const r of (await db.query<{ state: string; queue: string; n: number }>(sql('observability/metrics_task_instances'))).rows) tasks.set({ state: r.state, queue: r.queue }, r.n);
        importErrors.set((await db.query<{ n: number }>(sql('observability/metrics_import_errors'))).rows[0]!.n);
        attempts.reset();
        for (const r of (await db.query<{ dag_id: string; state: string; n: number }>(sql('observability/metrics_task_attempts'))).rows) attempts.set({ dag_id: r.dag_id, state: r.state }, r.n);
        deadlinesMissed.reset();
        for (const r of (await db.query<{ dag_id: string; n: number }>(sql('observability/metrics_deadlines_missed'))).rows) deadlinesMissed.set({ dag_id: r.dag_id }, r.n);
        callbacks.reset();
        for (const r of (await db.query<{ kind: string; state: string; n: number }>(sql('observability/metrics_callbacks'))).rows) callbacks.set({ kind: r.kind, state: r.state }, r.n);
        runDurations.load((await db.query<{ dag_id: string; state: string; le: number; n: number; sum_sec: number }>(sql('observability/metrics_run_durations'), [RUN_DURATION_BUCKETS])).rows);
        components.reset();
        for (const r of (await db.query<{ role: string; hostname: string; n: number }>(sql('observability/metrics_components'))).rows) components.set({ role: r.role, hostname: r.hostname }, r.n);
        queued.reset();
        oldestWait.reset();
        queueWorkers.reset();
        for (const r of (await db.query<{ queue: string; queued: number; oldest_sec: number; workers: number }>(sql('observability/metrics_queue_waits'))).rows) {
          queued.set({ queue: r.queue }, r.queued);
          oldestWait.set({ queue: r.queue }, r.oldest_sec);
          queueWorkers.set({ queue: r.queue }, r.workers);
        }
        maintenance.set((await maintenanceOn(db)) ? 1 : 0);
        triggersUnheld.set((await db.query<{ n: number }>(sql('observability/metrics_trigger_backlog'))).rows[0]!.n);
        backupAge.reset();
        const lastBackupAge = (await db.query<{ age: number | null }>(sql('observability/metrics_backup_age'))).rows[0]!.age;
        if (lastBackupAge !== null) backupAge.set(lastBackupAge);
        flapping.reset();
        flaps.reset();
        const flapRows = (await db.query<{ component_id: string; role: string; flaps: number }>(sql('observability/metrics_flapping'), [opts.flapWindowSec])).rows;
        for (const role of new Set(['scheduler', 'worker', 'dag-processor', 'triggerer', 'api', 'standalone', ...flapRows.map((r) => r.role)])) {
          flapping.set({ role }, flapRows.filter((r) => r.role === role && r.flaps > opts.flapThreshold).length);
        }
        for (const r of flapRows) flaps.set({ role: r.role, component: r.component_id }, r.flaps);
        heartbeat.reset();
        for (const r of (await db.query<{ id: string; role: string; hostname: string; age: number }>(sql('observability/metrics_heartbeat_ages'))).rows) heartbeat.set({ role: r.role, component: r.id, hostname: r.hostname }, r.age);
        scrapeOk.set(1);
      } catch {
        scrapeOk.set(0);
      }
    };
  }
}

interface HistogramRow { dag_id: string; state: string; le: number; n: number; sum_sec: number }

/**
 * A histogram whose buckets are counted by the database (prom-client's Histogram only
 * observes values one by one in this process). Registered as a custom metric: prom-client
 * renders its `get()` values like its own histograms'.
 */
class DatabaseHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'max';
  private rows: HistogramRow[] = [];
  constructor(readonly name: string, readonly help: string, readonly labelNames: string[], private readonly buckets: number[], private readonly refresh: () => Promise<void>) {}

  load(rows: HistogramRow[]): void {
    this.rows = rows;
  }

  async get() {
    await this.refresh();
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    const series = new Map<string, HistogramRow[]>();
    for (const r of this.rows) {
      const key = `${r.dag_id}\u0000${r.state}`;
      series.set(key, [...(series.get(key) ?? []), r]);
    }
    for (const rows of series.values()) {
      const { dag_id, state } = rows[0]!;
      const byBound = new Map(rows.map((r) => [Number(r.le), r]));
      for (const le of [...this.buckets, Infinity]) {
        values.push({ metricName: `${this.name}_bucket`, labels: { dag_id, state, le: le === Infinity ? '+Inf' : le }, value: byBound.get(le)?.n ?? 0 });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { dag_id, state }, value: rows[0]!.sum_sec });
      values.push({ metricName: `${this.name}_count`, labels: { dag_id, state }, value: byBound.get(Infinity)?.n ?? 0 });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.rows = [];
  }
}
