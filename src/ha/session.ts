// A component's own database session: registration, heartbeats with the database clock,
// and a session-level advisory lock that PostgreSQL releases the moment the process's
// connection closes. Peers read "lock gone + heartbeat stale" as "this process died",
// which lets a scheduler take a dead worker's attempts over in about a second instead of
// waiting for their leases to expire. The session reconnects by itself and reports each
// reconnect, since a connection lost by many components at once means the database itself
// restarted or failed over.
//
// The session is also the component's split-brain guard: on every (re)connect and every
// `primaryCheckMs` it compares its own server with what a fresh connection through the
// database URL (the way its Database's pools go) reaches (src/ha/primary-identity.ts). A session on a standby, a demoted or an
// isolated old primary makes the component unfit: workers stop claiming and fence their own
// attempts, schedulers stop deciding, until a check finds the session on the primary again
// (rules "orphan fencing" and "an unfit session stops work" in src/fencing/INVARIANTS.md).
//
// The session needs a real database session (advisory lock, LISTEN-free but stateful): it
// connects through its Database's session URL (behind PgBouncer in transaction pooling,
// `sessionDatabaseUrl`, directly).
import { randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from '../log.js';
import { backoffMs, isUnreachableDbError } from '../db/transient.js';
import { retryPause, type Availability } from '../db/availability.js';
import type { Database } from '../db/database.js';
import { judgePrimary, primaryChanged, type ServerIdentity, type Verdict } from './primary-identity.js';
import { KEEL_VERSION } from '../version.js';
import { recordDisruption } from '../fencing/disruption.js';
import { PROCESS_NAMESPACE } from '../fencing/process-namespace.js';
import { sql } from '../db/sql.js';

export type Role = 'scheduler' | 'worker' | 'dag-processor' | 'standalone' | 'api' | 'triggerer';

/** Advisory-lock class shared by all Keel component locks (pg_locks.classid). */
export const COMPONENT_LOCK_CLASS = 72833;

export interface SessionOptions {
  heartbeatMs: number;
  /** Client-side limit for each heartbeat, so a silent network cannot hang the loop. */
  queryTimeoutMs: number;
  /** Limit to open a connection. Default: queryTimeoutMs. */
  connectTimeoutMs?: number;
  /** TCP keepalive idle time of the session connection. Default 10000. */
  keepAliveIdleMs?: number;
  /** How often the session compares its server with the route's; 0 turns the check off. Default 2000. */
  primaryCheckMs?: number;
}

/** What the last split-brain check saw, for `keel ha status`, the health document and metrics. */
export interface PrimaryCheck {
  at: Date;
  mine: ServerIdentity;
  route: ServerIdentity | null;
  routeError?: string;
  verdict: Verdict;
}

interface IdentityRow { system_id: string; timeline: number; in_recovery: boolean; address: string; started_at: string }
const identityOf = (r: IdentityRow): ServerIdentity => ({ systemId: r.system_id, timeline: Number(r.timeline), inRecovery: r.in_recovery, address: r.address, startedAt: r.started_at });

export class ComponentSession {
  readonly id = randomUUID();
  readonly lockKey = randomInt(1, 2 ** 31 - 1);
  readonly host = hostname();
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private reconnecting = false;
  private loopAt: Date | null = null;
  private turns = 0;
  private lastHeartbeatOk = 0;
  private maxGapMs = 0;
  private lastTick = 0;
  private lastCheckAt = 0;
  private checking = false;
  private lastRoute: ServerIdentity | null = null;
  private unfit: string | null = null;
  /** Set for good when an operator fenced this component (`keel ha fence`): no primary check clears it. */
  private fencedByOperator: string | null = null;
  private stopping = false;
  /** The last split-brain check. */
  lastPrimaryCheck: PrimaryCheck | null = null;
  /** Called when the component becomes unfit (reason) or fit again (null). */
  onFitness: (reason: string | null) => void = () => {};
  /** What the component holds, shown by `keel ha status`. */
  details: () => Record<string, unknown> = () => ({});
  private readonly availability: Availability;

  /** The session connects through database's session URL; the split-brain check through its url, the pools' route (HAProxy, multi-host, PgBouncer). */
  constructor(private readonly database: Database, readonly role: Role, private readonly opts: SessionOptions, private readonly log: Logger) {
    this.availability = database.sessionAvailability;
  }

  /** Why this component must not take or decide work now (its database server is not the primary), or null. */
  get unfitReason(): string | null {
    return this.fencedByOperator ?? this.unfit;
  }

  private clientConfig(): pg.ClientConfig {
    return {
      application_name: `keel-${this.role}-session`, keepAlive: true, keepAliveInitialDelayMillis: this.opts.keepAliveIdleMs ?? 10000,
      query_timeout: this.opts.queryTimeoutMs, connectionTimeoutMillis: this.opts.connectTimeoutMs ?? this.opts.queryTimeoutMs,
    };
  }

  /**
   * Opens the session connection, takes the component lock and runs `then` on it. A failure
   * at any step ends the connection: a half-open session left behind would keep holding the
   * lock, and every later reconnect would find it "held by another session".
   */
  private async connect(then: (client: pg.Client) => Promise<unknown> = async () => {}): Promise<pg.Client> {
    const client = this.database.newClient('session', this.clientConfig());
    client.on('error', (err) => {
      this.availability.lost();
      this.log.warn({ err }, 'component session lost');
    });
    client.on('end', () => {
      if (this.client === client) {
        this.client = null;
        void this.reconnect();
      }
    });
    try {
      await client.connect();
      const got = await client.query<{ ok: boolean }>(sql('ha/component_lock'), [COMPONENT_LOCK_CLASS, this.lockKey]);
      if (!got.rows[0]?.ok) throw new Error(`component lock ${this.lockKey} is held by another session`);
      await then(client);
      return client;
    } catch (err) {
      await client.end();
      throw err;
    }
  }

  async start(): Promise<void> {
    const client = await this.connect(async (c) => {
      await c.query(sql('ha/component_register'), [this.id, this.role, this.host, process.pid, KEEL_VERSION, this.lockKey]);
      await c.query(sql('ha/ha_event_insert'), ['component_joined', this.id, { role: this.role, hostname: this.host, pid: process.pid }]);
    });
    this.client = client;
    this.lastHeartbeatOk = performance.now();
    await this.checkPrimary();
    this.timer = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs);
    this.timer.unref();
  }

  /** Called by the role's main loop on every turn: the liveness probe reads it. */
  loopTurned(): void {
    this.loopAt = new Date();
    this.turns++;
  }

  /** Turns so far (keel_loop_turns_total): proof that the loop has had its chances to act, where a time would only guess. */
  get loopTurns(): number {
    return this.turns;
  }

  get lastLoopAt(): Date | null {
    return this.loopAt;
  }

  /** Ready: the session is connected, the last heartbeat went through recently, and the process is not stopping. */
  get ready(): boolean {
    return !this.stopping && this.client !== null && this.fencedByOperator === null && performance.now() - this.lastHeartbeatOk < this.opts.heartbeatMs * 4;
  }

  /** Whether the process is stopping: its role drains (a worker's attempts finish or are handed back) and it takes no new work. */
  get draining(): boolean {
    return this.stopping;
  }

  /**
   * SIGTERM: not ready from now on, while the role drains, so that a readiness probe (a
   * kubelet, a load balancer) sees the copy leave before it exits. The session itself stays
   * until stop(): heartbeats and the lock go on through the drain.
   */
  beginStopping(): void {
    this.stopping = true;
  }

  private async heartbeat(): Promise<void> {
    const now = performance.now();
    if (this.lastTick) this.maxGapMs = Math.max(this.maxGapMs, now - this.lastTick);
    this.lastTick = now;
    const client = this.client;
    if (!client) return;
    const checkEvery = this.opts.primaryCheckMs ?? 2000;
    if (checkEvery > 0 && now - this.lastCheckAt >= checkEvery) void this.checkPrimary();
    try {
      const r = await client.query<{ previous_state: string; fence_reason: string | null }>(sql('ha/component_heartbeat'), [this.id, this.loopAt, { ...this.details(), maxHeartbeatGapMs: Math.round(this.maxGapMs), database: this.databaseDetails(), processNamespace: PROCESS_NAMESPACE }]);
      this.lastHeartbeatOk = performance.now();
      this.availability.reached();
      if (r.rows.length === 0 && this.fencedByOperator === null) {
        // No row for this component: the database was restored from a backup taken before it
        // joined (`keel restore`); it belongs to the old fleet, as a fenced one does.
        this.fencedByOperator = 'this component is unknown to the database (restored from a backup taken before it joined, see `keel ha events --kind restored`): restart this process to rejoin as a new component';
        this.log.error('this component has no row in the database (restored from an older backup?): it takes no work and decides nothing; restart it to rejoin');
        this.onFitness(this.fencedByOperator);
      } else if (r.rows[0]?.previous_state === 'fenced' && this.fencedByOperator === null) {
        this.fencedByOperator = `fenced by an operator (${r.rows[0].fence_reason ?? 'no reason given'}): restart this process to rejoin as a new component`;
        this.log.error({ reason: r.rows[0].fence_reason }, 'an operator fenced this component: it takes no work and decides nothing; restart it to rejoin');
        this.onFitness(this.fencedByOperator);
      } else if (r.rows[0]?.previous_state === 'dead') {
        this.log.warn('this component had been marked dead by a peer; rejoined');
        await client.query(sql('ha/ha_event_insert'), ['component_rejoined', this.id, { role: this.role }]);
      }
    } catch (err) {
      this.log.warn({ err }, 'heartbeat failed');
      if (isUnreachableDbError(err)) this.availability.lost();
      if (this.client === client) {
        this.client = null;
        await client.end();
        void this.reconnect();
      }
    }
  }

  private async reconnect(): Promise<void> {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = true;
    // Tries again at once when another call of this process reaches the database.
    const pause = retryPause(this.availability);
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const client = await this.connect((c) => recordDisruption(c, this.id, `${this.role} session reconnected`));
        this.client = client;
        this.availability.reached();
        this.log.info('component session reconnected');
        this.lastCheckAt = 0; // the heartbeat below checks the server at once
        await this.heartbeat();
        break;
      } catch (err) {
        this.log.warn({ err, failures: attempt + 1 }, 'component session reconnect failed');
        if (isUnreachableDbError(err)) this.availability.lost();
        await pause(backoffMs(attempt, 100, 2000));
      }
    }
    this.reconnecting = false;
  }

  /**
   * The split-brain check: the session's server against a fresh connection through the
   * route. Never throws; a failed check of the session's own server is the heartbeat's
   * business (it reconnects).
   */
  async checkPrimary(): Promise<PrimaryCheck | null> {
    const client = this.client;
    if (!client || this.checking) return this.lastPrimaryCheck;
    this.checking = true;
    this.lastCheckAt = performance.now();
    let route: pg.Client | null = null;
    try {
      const mine = identityOf((await client.query<IdentityRow>(sql('ha/server_identity'))).rows[0]!);
      let routeIdentity: ServerIdentity | null = null;
      let routeError: string | undefined;
      // A multi-host route is probed afresh: its primary may have moved since the pools chose.
      await this.database.refreshRoute();
      route = this.database.newClient('route', { ...this.clientConfig(), application_name: `keel-${this.role}-primary-check` });
      route.on('error', (err) => this.log.debug({ err }, 'split-brain check connection failed; the pending connect or query reports it too'));
      try {
        await route.connect();
        routeIdentity = identityOf((await route.query<IdentityRow>(sql('ha/server_identity'))).rows[0]!);
      } catch (err) {
        routeError = (err as Error).message;
        await route.end();
        route = null;
      }
      const verdict = judgePrimary(mine, routeIdentity);
      const check: PrimaryCheck = { at: new Date(), mine, route: routeIdentity, ...(routeError ? { routeError } : {}), verdict };
      this.lastPrimaryCheck = check;
      if (route && routeIdentity && primaryChanged(this.lastRoute, routeIdentity)) {
        this.log.warn({ from: this.lastRoute, to: routeIdentity }, 'the database primary changed');
        await route.query(sql('ha/ha_event_primary_changed'), [this.id, {
          primary: `${routeIdentity.systemId}/${routeIdentity.timeline}/${routeIdentity.startedAt}`, address: routeIdentity.address, timeline: routeIdentity.timeline,
          previousAddress: this.lastRoute?.address, previousTimeline: this.lastRoute?.timeline, seenBy: this.role,
        }]).catch((err) => this.log.debug({ err }, 'could not record the primary change as an HA event; the warning above has it in this log'));
        // The outage grace starts on the new primary even if no session had to reconnect.
        await recordDisruption(route, this.id, `${this.role} saw the primary change to ${routeIdentity.address} (timeline ${routeIdentity.timeline})`).catch((err) => this.log.debug({ err }, 'could not record the disruption on the new primary; fencing does not act on a timeline nobody recorded'));
      }
      if (routeIdentity) this.lastRoute = routeIdentity;
      await this.applyVerdict(verdict, route);
      return check;
    } catch (err) {
      this.log.warn({ err }, 'database primary check failed');
      return this.lastPrimaryCheck;
    } finally {
      await route?.end();
      this.checking = false;
    }
  }

  /** The component's view of the database, in its heartbeat details (`keel ha status`). */
  databaseDetails(): Record<string, unknown> | null {
    const c = this.lastPrimaryCheck;
    if (!c) return null;
    return {
      server: c.mine.address, timeline: c.mine.timeline, systemId: c.mine.systemId, fit: c.verdict.fit, verdict: c.verdict.reason,
      ...(c.verdict.fit ? {} : { detail: c.verdict.detail }), routeServer: c.route?.address ?? null, checkedAt: c.at.toISOString(),
    };
  }

  private async applyVerdict(verdict: Verdict, route: pg.Client | null): Promise<void> {
    const reason = verdict.fit ? null : `${verdict.reason}: ${verdict.detail}`;
    if (reason === this.unfit) return;
    const wasUnfit = this.unfit !== null;
    this.unfit = reason;
    if (!verdict.fit) {
      this.log.error({ reason: verdict.reason, detail: verdict.detail }, 'this component is on a database server that is not the primary: it stops taking work');
      // Recorded on the route's server, the real primary: the session's own is the suspect.
      await route?.query(sql('ha/ha_event_insert'), [verdict.reason === 'in_recovery' ? 'db_demoted_primary' : 'db_isolated_primary', this.id, { role: this.role, reason: verdict.reason, detail: verdict.detail }]).catch((err) => this.log.debug({ err }, 'could not record the unfit session as an HA event on the primary; the error above has it in this log'));
      // A new session connection may reach the primary (the session URL routes, or its chooser probes again).
      const client = this.client;
      if (client) {
        this.client = null;
        await client.end();
        void this.reconnect();
      }
    } else if (wasUnfit) {
      this.log.info('this component is on the primary again: it takes work');
      await route?.query(sql('ha/ha_event_insert'), ['db_primary_confirmed', this.id, { role: this.role }]).catch((err) => this.log.debug({ err }, 'could not record the return to the primary as an HA event; the message above has it in this log'));
    }
    this.onFitness(this.unfitReason);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const client = this.client;
    this.client = null;
    if (!client) return;
    try {
      await client.query(sql('ha/component_stopped'), [this.id]);
      await client.query(sql('ha/ha_event_insert'), ['component_left', this.id, { role: this.role }]);
    } catch (err) {
      this.log.warn({ err }, 'could not deregister');
    }
    await client.end(); // closing the session releases the lock
  }
}
