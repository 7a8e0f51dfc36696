// A component's own database session: registration, heartbeats with the database clock,
// and a session-level advisory lock that PostgreSQL releases the moment the process's
// connection closes. Peers read "lock gone + heartbeat stale" as "this process died",
// which lets a scheduler take a dead worker's attempts over in about a second instead of
// waiting for their leases to expire. The session reconnects by itself and reports each
// reconnect, since a connection lost by many components at once means the database itself
// restarted or failed over.
import { randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Logger } from '../log.js';
import { backoffMs } from '../db/transient.js';
import { KEEL_VERSION } from '../version.js';
import { recordDisruption } from './disruption.js';
import { sql } from '../db/sql.js';

export type Role = 'scheduler' | 'worker' | 'dag-processor' | 'standalone' | 'api' | 'triggerer';

/** Advisory-lock class shared by all Keel component locks (pg_locks.classid). */
export const COMPONENT_LOCK_CLASS = 72833;

export interface SessionOptions {
  heartbeatMs: number;
  /** Client-side limit for each heartbeat, so a silent network cannot hang the loop. */
  queryTimeoutMs: number;
}

const REGISTER = `
INSERT INTO component (id, role, hostname, pid, version, state, lock_key)
VALUES ($1, $2, $3, $4, $5, 'running', $6)`;

/** Heartbeat; a component marked dead by a peer (it was frozen or cut off) rejoins. Returns the previous state. */
const HEARTBEAT = `
UPDATE component c
SET last_heartbeat_at = now(), loop_at = coalesce($2, c.loop_at), details = $3,
    state = CASE WHEN c.state = 'dead' THEN 'running' ELSE c.state END, dead_at = NULL
FROM (SELECT state FROM component WHERE id = $1 FOR UPDATE) AS previous
WHERE c.id = $1
RETURNING previous.state AS previous_state`;

export class ComponentSession {
  readonly id = randomUUID();
  readonly lockKey = randomInt(1, 2 ** 31 - 1);
  readonly host = hostname();
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private reconnecting = false;
  private loopAt: Date | null = null;
  private lastHeartbeatOk = 0;
  private maxGapMs = 0;
  private lastTick = 0;
  /** What the component holds, shown by `keel ha status`. */
  details: () => Record<string, unknown> = () => ({});

  constructor(private readonly url: string, readonly role: Role, private readonly opts: SessionOptions, private readonly log: Logger) {}

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, application_name: `keel-${this.role}-session`, keepAlive: true, query_timeout: this.opts.queryTimeoutMs, connectionTimeoutMillis: this.opts.queryTimeoutMs });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'component session lost'));
    client.on('end', () => {
      if (this.client === client) {
        this.client = null;
        void this.reconnect();
      }
    });
    await client.connect();
    const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [COMPONENT_LOCK_CLASS, this.lockKey]);
    if (!got.rows[0]?.ok) {
      await client.end();
      throw new Error(`component lock ${this.lockKey} is held by another session`);
    }
    return client;
  }

  async start(): Promise<void> {
    const client = await this.connect();
    await client.query(REGISTER, [this.id, this.role, this.host, process.pid, KEEL_VERSION, this.lockKey]);
    await client.query(sql('ha_event_insert'), ['component_joined', this.id, { role: this.role, hostname: this.host, pid: process.pid }]);
    this.client = client;
    this.lastHeartbeatOk = performance.now();
    this.timer = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs);
    this.timer.unref();
  }

  /** Called by the role's main loop on every turn: the liveness probe reads it. */
  loopTurned(): void {
    this.loopAt = new Date();
  }

  get lastLoopAt(): Date | null {
    return this.loopAt;
  }

  /** Ready: the session is connected and the last heartbeat went through recently. */
  get ready(): boolean {
    return this.client !== null && performance.now() - this.lastHeartbeatOk < this.opts.heartbeatMs * 4;
  }

  private async heartbeat(): Promise<void> {
    const now = performance.now();
    if (this.lastTick) this.maxGapMs = Math.max(this.maxGapMs, now - this.lastTick);
    this.lastTick = now;
    const client = this.client;
    if (!client) return;
    try {
      const r = await client.query<{ previous_state: string }>(HEARTBEAT, [this.id, this.loopAt, { ...this.details(), maxHeartbeatGapMs: Math.round(this.maxGapMs) }]);
      this.lastHeartbeatOk = performance.now();
      if (r.rows[0]?.previous_state === 'dead') {
        this.log.warn('this component had been marked dead by a peer; rejoined');
        await client.query(sql('ha_event_insert'), ['component_rejoined', this.id, { role: this.role }]);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat failed');
      if (this.client === client) {
        this.client = null;
        await client.end().catch(() => {});
        void this.reconnect();
      }
    }
  }

  private async reconnect(): Promise<void> {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = true;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const client = await this.connect();
        await recordDisruption(client, this.id, `${this.role} session reconnected`);
        this.client = client;
        this.log.info('component session reconnected');
        await this.heartbeat();
        break;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, attempt }, 'component session reconnect failed');
        await new Promise((r) => setTimeout(r, backoffMs(attempt, 100, 2000)));
      }
    }
    this.reconnecting = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const client = this.client;
    this.client = null;
    if (!client) return;
    try {
      await client.query(`UPDATE component SET state = 'stopped', last_heartbeat_at = now() WHERE id = $1`, [this.id]);
      await client.query(sql('ha_event_insert'), ['component_left', this.id, { role: this.role }]);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not deregister');
    }
    await client.end().catch(() => {}); // closing the session releases the lock
  }
}
