// Prometheus metrics of one Keel process. Cluster-wide numbers (HA events, task counts,
// heartbeat ages) are read from the database at scrape time, so every copy reports the
// same truth.
import client from 'prom-client';
import type { Database } from '../db/database.js';
import { readDatabaseStatus } from '../ha/db-status.js';
import type { PrimaryCheck } from '../ha/session.js';
import { sql } from '../db/sql.js';

export class KeelMetrics {
  readonly registry = new client.Registry();
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

  constructor(db: Database) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'keel_' });
    this.loopSeconds = new client.Histogram({
      name: 'keel_loop_seconds', help: 'Duration of one turn of the role loop', labelNames: ['role'],
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
    const scrapeOk = gauge('keel_scrape_ok', '1 when the database answered this scrape');
    const haEvents = gauge('keel_ha_events', 'HA events recorded, by kind (cluster-wide)', ['kind']);
    const tasks = gauge('keel_task_instances', 'Task instances not yet final, by state and queue (cluster-wide)', ['state', 'queue']);
    const heartbeat = gauge('keel_component_heartbeat_age_seconds', 'Age of the last heartbeat of each live component', ['role', 'component', 'hostname']);
    const importErrors = gauge('keel_dag_import_errors', 'DAG files that failed to load at their last parse (cluster-wide)');
    const pool = gauge('keel_db_pool_connections', 'Database pool connections of this process', ['state']);
    const dbTimeline = gauge('keel_db_timeline', 'Timeline of the database server this process reaches (a failover raises it)');
    const dbInRecovery = gauge('keel_db_in_recovery', '1 when the server this process reaches is in recovery (a replica or demoted primary)');
    const replicaLagBytes = gauge('keel_db_replica_lag_bytes', 'Replay lag of each replica streaming from the primary, in bytes (pg_stat_replication)', ['replica', 'sync_state']);
    const replicaLagSec = gauge('keel_db_replica_lag_seconds', 'Replay lag of each replica streaming from the primary, in seconds (0 when idle and caught up)', ['replica', 'sync_state']);
    const hostChanges = gauge('keel_db_host_changes', 'Times a multi-host URL of this process moved to another host (failovers seen)');
    const fit = gauge('keel_db_session_fit', "1 while this process's session is on the primary the database URL reaches; 0 when it found itself on a demoted or isolated primary and stopped taking work");
    const readRoute = gauge('keel_db_read_route_replica', '1 while heavy API reads go to the read replica, 0 while they go to the primary');
    const readReplicaLag = gauge('keel_db_read_replica_lag_seconds', 'Replay lag of the read replica as the read router last measured it');
    const reads = gauge('keel_db_heavy_reads', 'Heavy API reads served by this process, by target', ['target']);
    const reachable = gauge('keel_db_reachable', '0 while this process has lost its database (a connection failed and no call or probe got through since), else 1');
    const outages = gauge('keel_db_outages', 'Database outages this process saw end (lost, then reached again)');
    const unreachableSeconds = gauge('keel_db_unreachable_seconds', 'Time this process spent without its database, over all the outages it saw end (first failed call to the first that got through)');
    const readDatabase = async () => {
      const availability = db.availability;
      reachable.set(availability.unreachable ? 0 : 1);
      outages.set(availability.outages);
      unreachableSeconds.set(availability.outageMsTotal / 1000);
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
        hostChanges.set(status.hosts.reduce((n, h) => n + h.changes, 0));
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
        heartbeat.reset();
        for (const r of (await db.query<{ id: string; role: string; hostname: string; age: number }>(sql('observability/metrics_heartbeat_ages'))).rows) heartbeat.set({ role: r.role, component: r.id, hostname: r.hostname }, r.age);
        scrapeOk.set(1);
      } catch {
        scrapeOk.set(0);
      }
    };
  }
}
