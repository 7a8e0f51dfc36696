// The chaos workload's ledger of side effects: every task attempt records its start and
// its finish here, through its own connection, as a task writing to an external system
// would. The checker compares this ledger with what Keel accepted.
import { Database } from '../../db/database.js';

export const HISTORY_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS keel_chaos_history (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dag_id      text NOT NULL,
  run_id      text NOT NULL,
  task_id     text NOT NULL,
  attempt_id  uuid NOT NULL,
  try_number  integer NOT NULL,
  event       text NOT NULL CHECK (event IN ('start', 'finish', 'defer', 'resume')),
  at          timestamptz NOT NULL DEFAULT clock_timestamp()
)`;

/** $1 dag_id, $2 run_id, $3 task_id, $4 attempt_id, $5 try_number, $6 event */
const RECORD = `INSERT INTO keel_chaos_history (dag_id, run_id, task_id, attempt_id, try_number, event) VALUES ($1, $2, $3, $4, $5, $6)`;

let history: Database | null = null;

export async function recordEvent(ctx: { dagId: string; runId: string; taskId: string; attemptId: string; tryNumber: number }, event: 'start' | 'finish' | 'defer' | 'resume'): Promise<void> {
  const url = process.env.KEEL_CHAOS_HISTORY_URL;
  if (!url) throw new Error('KEEL_CHAOS_HISTORY_URL is not set: chaos DAGs run only under `keel chaos`');
  // Retried through a database failover like Keel's own writes, and as promptly once the
  // database is back (the Database probes for its return). A retried insert whose first
  // commit did land adds a second identical row, which the checker reads as one event.
  history ??= new Database(url, { size: 1, applicationName: 'keel-chaos-history', connectTimeoutMs: 3000, retryDeadlineMs: 60_000 });
  const db = history;
  await db.withRetry(() => db.query(RECORD, [ctx.dagId, ctx.runId, ctx.taskId, ctx.attemptId, ctx.tryNumber, event]));
}
