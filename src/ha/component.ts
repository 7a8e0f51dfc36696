// The component registry: every Keel process registers its role, host and pid, and
// heartbeats with the database clock so that peers can tell it is alive.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../db/pool.js';
import { withRetry } from '../db/pool.js';
import type { Logger } from '../log.js';
import { KEEL_VERSION } from '../version.js';

export type Role = 'scheduler' | 'worker' | 'dag-processor' | 'standalone' | 'api' | 'triggerer';

export class Component {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Db, readonly role: Role, private readonly log: Logger) {}

  async register(): Promise<void> {
    await withRetry(() => this.db.query(
      `INSERT INTO component (id, role, hostname, pid, version, state) VALUES ($1, $2, $3, $4, $5, 'running')`,
      [this.id, this.role, hostname(), process.pid, KEEL_VERSION],
    ), { log: this.log, what: 'component registration' });
    await this.db.query(`INSERT INTO ha_event (kind, component_id, details) VALUES ('component_joined', $1, $2)`, [this.id, { role: this.role, hostname: hostname(), pid: process.pid }]);
  }

  startHeartbeat(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.db.query(`UPDATE component SET last_heartbeat_at = now() WHERE id = $1`, [this.id])
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'heartbeat failed'));
    }, intervalMs);
    this.timer.unref();
  }

  async deregister(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.db.query(`UPDATE component SET state = 'stopped', last_heartbeat_at = now() WHERE id = $1`, [this.id]).catch(() => {});
    await this.db.query(`INSERT INTO ha_event (kind, component_id, details) VALUES ('component_left', $1, $2)`, [this.id, { role: this.role }]).catch(() => {});
  }
}
