// Whether a heavy read may go to the read replica: pure, from one lag check. Tested in
// test/unit/replica-route.test.ts; the I/O lives in src/db/read-router.ts.

export interface LagSample {
  /** The replica answered the check. */
  reachable: boolean;
  /** pg_is_in_recovery() on the replica (false: it is a primary, e.g. promoted, or the same server). */
  inRecovery: boolean;
  /** The replica had replayed the primary's WAL position read just before the check. */
  caughtUp: boolean;
  /** now() - pg_last_xact_replay_timestamp() on the replica, in ms (null: nothing replayed yet). */
  replayAgeMs: number | null;
  /** Milliseconds since the sample was taken. */
  ageMs: number;
}

export interface Route {
  use: 'replica' | 'primary';
  /** Estimated replay lag in ms (0 when caught up; null when unknown). */
  lagMs: number | null;
  reason: string;
}

/** A sample older than this many check intervals is not trusted: reads go to the primary. */
export const STALE_SAMPLE_INTERVALS = 3;

export function routeReads(sample: LagSample | null, maxLagMs: number, checkEveryMs: number): Route {
  if (!sample) return { use: 'primary', lagMs: null, reason: 'replica not checked yet' };
  if (sample.ageMs > checkEveryMs * STALE_SAMPLE_INTERVALS) return { use: 'primary', lagMs: null, reason: `last replica check is ${Math.round(sample.ageMs)} ms old` };
  if (!sample.reachable) return { use: 'primary', lagMs: null, reason: 'replica unreachable' };
  // A replica that was promoted is no longer fed by Keel's primary: its data may diverge.
  if (!sample.inRecovery) return { use: 'primary', lagMs: null, reason: 'the read URL reaches a server that is not in recovery (not a replica)' };
  const lagMs = sample.caughtUp ? 0 : sample.replayAgeMs;
  if (lagMs === null) return { use: 'primary', lagMs: null, reason: 'replica has replayed nothing yet' };
  if (lagMs > maxLagMs) return { use: 'primary', lagMs, reason: `replica lag ${Math.round(lagMs)} ms is over replicaMaxLagMs ${maxLagMs}` };
  return { use: 'replica', lagMs, reason: 'replica lag within bound' };
}
