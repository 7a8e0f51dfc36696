// Prometheus metrics of one Keel process. Cluster-wide numbers (HA events, task counts,
// heartbeat ages) are read from the database at scrape time, so every copy reports the
// same truth.
import client from 'prom-client';
import type { Db } from '../db/pool.js';

export class KeelMetrics {
  readonly registry = new client.Registry();
  readonly loopSeconds: client.Histogram<'role'>;

  constructor(db: Db) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'keel_process_' });
    this.loopSeconds = new client.Histogram({
      name: 'keel_loop_seconds', help: 'Duration of one turn of the role loop', labelNames: ['role'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
    });
    const haEvents = new client.Gauge({ name: 'keel_ha_events', help: 'HA events recorded, by kind (cluster-wide)', labelNames: ['kind'], registers: [this.registry] });
    const tasks = new client.Gauge({ name: 'keel_task_instances', help: 'Task instances not yet final, by state and queue (cluster-wide)', labelNames: ['state', 'queue'], registers: [this.registry] });
    const heartbeat = new client.Gauge({ name: 'keel_component_heartbeat_age_seconds', help: 'Age of the last heartbeat of each live component', labelNames: ['role', 'component', 'hostname'], registers: [this.registry] });
    const pool = new client.Gauge({ name: 'keel_db_pool_connections', help: 'Database pool connections of this process', labelNames: ['state'], registers: [this.registry] });
    new client.Gauge({
      name: 'keel_scrape_ok', help: '1 when the database answered this scrape', registers: [this.registry],
      async collect() {
        pool.set({ state: 'total' }, db.totalCount);
        pool.set({ state: 'idle' }, db.idleCount);
        pool.set({ state: 'waiting' }, db.waitingCount);
        try {
          haEvents.reset();
          for (const r of (await db.query<{ kind: string; n: number }>('SELECT kind, count(*)::int AS n FROM ha_event GROUP BY kind')).rows) haEvents.set({ kind: r.kind }, r.n);
          tasks.reset();
          for (const r of (await db.query<{ state: string; queue: string; n: number }>(
            `SELECT state, queue, count(*)::int AS n FROM task_instance WHERE state IN ('scheduled', 'queued', 'running', 'up_for_retry') GROUP BY state, queue`,
          )).rows) tasks.set({ state: r.state, queue: r.queue }, r.n);
          heartbeat.reset();
          for (const r of (await db.query<{ id: string; role: string; hostname: string; age: number }>(
            `SELECT id, role, hostname, extract(epoch FROM now() - last_heartbeat_at)::float8 AS age FROM component WHERE state = 'running'`,
          )).rows) heartbeat.set({ role: r.role, component: r.id, hostname: r.hostname }, r.age);
          this.set(1);
        } catch {
          this.set(0);
        }
      },
    });
  }
}
