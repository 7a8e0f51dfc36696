// A store for @fastify/rate-limit that keeps its counters in PostgreSQL, so that a limit
// holds across every API copy behind the load balancer (a client cannot multiply its
// budget by the number of copies). One upsert per counted request.
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;

export function postgresRateLimitStore(db: Database): FastifyRateLimitStoreCtor {
  return class PostgresRateLimitStore {
    incr(key: string, cb: Callback, timeWindow: number): void {
      db.query<{ hits: number; ttl_ms: number }>(sql('api/rate_limit_hit'), [key, timeWindow]).then(
        (r) => cb(null, { current: r.rows[0]!.hits, ttl: Math.ceil(r.rows[0]!.ttl_ms) }),
        (err: Error) => cb(err),
      );
    }

    read(key: string, cb: Callback, timeWindow: number): void {
      db.query<{ hits: number; ttl_ms: number }>(sql('api/rate_limit_read'), [key, timeWindow]).then(
        (r) => cb(null, { current: r.rows[0]?.hits ?? 0, ttl: Math.ceil(r.rows[0]?.ttl_ms ?? timeWindow) }),
        (err: Error) => cb(err),
      );
    }

    child(): this {
      return this;
    }
  };
}
