// The read router: heavy API reads (lists, grids, logs) go to the read replica while its
// replay lag is under `replicaMaxLagMs`, to the primary otherwise (and on any replica
// error). Scheduling, workers and every write use the primary pool directly and never see
// this; a Database owns its router (`database.reads`, src/db/database.ts). The lag is
// checked every second: the primary's WAL position first, then whether the replica has
// replayed it (caught up → lag 0) or how old its last replayed commit is.
import type { QueryResult, QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from './queryable.js';
import { routeReads, type LagSample, type Route } from '../core/replica-route.js';
import { sql } from './sql.js';

export interface ReaderStats {
  configured: boolean;
  route: Route;
  servedByReplica: number;
  servedByPrimary: number;
  replicaErrors: number;
}

export class ReadRouter {
  private sample: (Omit<LagSample, 'ageMs'> & { at: number }) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  servedByReplica = 0;
  servedByPrimary = 0;
  replicaErrors = 0;

  constructor(readonly primary: Queryable, readonly replica: Queryable | null, private readonly opts: { maxLagMs: number; checkEveryMs?: number; log?: Logger }) {}

  private get every(): number {
    return this.opts.checkEveryMs ?? 1000;
  }

  async start(): Promise<void> {
    if (!this.replica) return;
    await this.check();
    this.timer = setInterval(() => void this.check(), this.every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async check(): Promise<void> {
    if (!this.replica || this.checking) return;
    this.checking = true;
    try {
      const lsn = (await this.primary.query<{ lsn: string }>(sql('db/wal_position'))).rows[0]!.lsn;
      const r = (await this.replica.query<{ in_recovery: boolean; caught_up: boolean; replay_age_ms: number | null }>(sql('db/replica_lag'), [lsn])).rows[0]!;
      this.sample = { reachable: true, inRecovery: r.in_recovery, caughtUp: r.caught_up, replayAgeMs: r.replay_age_ms === null ? null : Math.max(0, r.replay_age_ms), at: performance.now() };
    } catch (err) {
      this.sample = { reachable: false, inRecovery: false, caughtUp: false, replayAgeMs: null, at: performance.now() };
      this.opts.log?.warn({ err }, 'read replica check failed; heavy reads go to the primary');
    } finally {
      this.checking = false;
    }
  }

  get route(): Route {
    if (!this.replica) return { use: 'primary', lagMs: null, reason: 'no readDatabaseUrl configured' };
    return routeReads(this.sample && { ...this.sample, ageMs: performance.now() - this.sample.at }, this.opts.maxLagMs, this.every);
  }

  /** A heavy read: on the replica when the route allows, else (or when the replica fails) on the primary. */
  async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    if (this.replica && this.route.use === 'replica') {
      try {
        const r = await this.replica.query<R>(text, values);
        this.servedByReplica++;
        return r;
      } catch (err) {
        this.replicaErrors++;
        this.opts.log?.warn({ err }, 'read on the replica failed; reading from the primary');
      }
    }
    this.servedByPrimary++;
    return this.primary.query<R>(text, values);
  }

  stats(): ReaderStats {
    return { configured: this.replica !== null, route: this.route, servedByReplica: this.servedByReplica, servedByPrimary: this.servedByPrimary, replicaErrors: this.replicaErrors };
  }
}
