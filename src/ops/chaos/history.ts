// The chaos workload's ledger of side effects: every task attempt records its start and
// its finish here, through its own connection, as a task writing to an external system
// would. The checker compares this ledger with what Keel accepted.
import pg from 'pg';
import { withRetry } from '../../db/pool.js';
import { availabilityOf } from '../../db/availability.js';
import { probeWritable } from '../../db/connect.js';
import { sql } from '../../db/sql.js';

let pool: pg.Pool | null = null;

export async function recordEvent(ctx: { dagId: string; runId: string; taskId: string; attemptId: string; tryNumber: number }, event: 'start' | 'finish' | 'defer' | 'resume'): Promise<void> {
  const url = process.env.KEEL_CHAOS_HISTORY_URL;
  if (!url) throw new Error('KEEL_CHAOS_HISTORY_URL is not set: chaos DAGs run only under `keel chaos`');
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 3000 });
    // An idle connection cut by a database failover must not end the runner process.
    pool.on('error', () => {});
    availabilityOf(url).probeWith(() => probeWritable(url, 1000));
  }
  const p = pool;
  // Retried through a database failover like Keel's own writes, and as promptly once the
  // database is back. A retried insert whose first commit did land adds a second identical
  // row, which the checker reads as one event.
  await withRetry(() => p.query(sql('chaos/history_record'), [ctx.dagId, ctx.runId, ctx.taskId, ctx.attemptId, ctx.tryNumber, event]), { maxElapsedMs: 60_000, availability: availabilityOf(url) });
}
