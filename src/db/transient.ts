// Which database errors are worth retrying: the connection dropped, the server is
// starting/stopping or failing over, a serialization conflict. Pure, so it is tested
// without a server.

/** SQLSTATEs after which the same transaction may succeed when tried again. */
export const TRANSIENT_SQLSTATES = new Set([
  '08000', '08001', '08003', '08004', '08006', '08007', '08P01', // connection exceptions
  '40001', // serialization_failure
  '40P01', // deadlock_detected (designed out, but never fatal to a loop)
  '55P03', // lock_not_available (NOWAIT lost a race)
  '57P01', '57P02', '57P03', // admin/crash shutdown, cannot connect now
  '53300', // too_many_connections
  '25006', // read_only_sql_transaction: connected to a replica / demoted primary
  '58000', '58030', // system / io error
]);

const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

const TRANSIENT_MESSAGES = [
  'Connection terminated',
  'connection terminated',
  'Client has encountered a connection error',
  'timeout expired',
  // pg-pool: no connection within connectionTimeoutMillis (the host is unreachable or the pool is busy).
  'timeout exceeded when trying to connect',
  'Connection ended unexpectedly',
  'terminating connection',
];

/** Transient, but the database answered: a lost race, not a sign that it is unreachable. */
const CONTENTION_SQLSTATES = new Set(['40001', '40P01', '55P03']);

export function isTransientDbError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code))) return true;
  return TRANSIENT_MESSAGES.some((m) => err.message.includes(m));
}

/** A transient error that says the database (or its primary) could not be reached, as opposed to a lost race. */
export function isUnreachableDbError(err: unknown): boolean {
  return isTransientDbError(err) && !CONTENTION_SQLSTATES.has((err as { code?: string }).code ?? '');
}

/**
 * Exponential backoff with jitter: attempt 0 → up to baseMs. The cap is a second because a
 * failover ends at a moment nobody announces: a longer wait would be added to Keel's own
 * resume after the database is back (its aim is under a second), while a retry a second
 * per process during an outage costs the database nothing.
 */
export function backoffMs(attempt: number, baseMs = 100, capMs = 1000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
