// The chaos workload's ledger of side effects: every task attempt records its start and
// its finish here, through its own connection, as a task writing to an external system
// would. The checker compares this ledger with what Keel accepted.
import { Database } from '../../db/database.js';
import { sql } from '../../db/sql.js';

let history: Database | null = null;

export async function recordEvent(ctx: { dagId: string; runId: string; taskId: string; attemptId: string; tryNumber: number }, event: 'start' | 'finish' | 'defer' | 'resume'): Promise<void> {
  const url = process.env.CHAOS_HISTORY_URL;
  if (!url) throw new Error('CHAOS_HISTORY_URL is not set: chaos DAGs run only under `keel chaos`');
  // Retried through a database failover like Keel's own writes, and as promptly once the
  // database is back (the Database probes for its return). A retried insert whose first
  // commit did land adds a second identical row, which the checker reads as one event.
  history ??= new Database(url, { size: 1, applicationName: 'keel-chaos-history', connectTimeoutMs: 3000, retryDeadlineMs: 60_000 });
  const db = history;
  await db.withRetry(() => db.query(sql('chaos/history_record'), [ctx.dagId, ctx.runId, ctx.taskId, ctx.attemptId, ctx.tryNumber, event]));
}
