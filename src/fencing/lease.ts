// The timing rules of an attempt's lease, pure. A scheduler fences an attempt whose lease
// has expired (task_instances_lock_expired.sql); its worker must have stopped it before
// then. So the worker renews well inside the lease and, when it could not renew for most
// of it, kills its attempts itself (self-fencing); the runner's watchdog uses the same
// deadline for a worker too frozen to do so.
// Rules "self-fencing before lease expiry" and "runner watchdog": src/fencing/INVARIANTS.md;
// docs/decisions/0001-attempt-ids-are-fencing-tokens.md, 0002-dead-workers-by-session-lock.md.

/** Fraction of the lease after which a worker that could not renew kills its attempts. */
export const SELF_FENCE_FRACTION = 0.8;
/** Leases are renewed this often at most, or every third of the lease if that is shorter. */
const MAX_RENEW_INTERVAL_MS = 5000;
/** Share of the renewal interval one renewal may take. */
const RENEWAL_TIMEOUT_FRACTION = 0.8;

/** How often a worker renews the leases of its running attempts. */
export function renewEveryMs(leaseSec: number): number {
  return Math.min(MAX_RENEW_INTERVAL_MS, (leaseSec * 1000) / 3);
}

/**
 * How long one renewal may take before the worker gives it up and the next tick tries a
 * fresh one. Through PgBouncer a renewal sent during an outage waits in its queue, and the
 * statement limit (10 s) let two hung renewals in a row use up the whole self-fencing window
 * of a 30 s lease after an 11 s failover. It ends before the next tick, which then starts afresh.
 */
export function renewalTimeoutMs(leaseSec: number): number {
  return renewEveryMs(leaseSec) * RENEWAL_TIMEOUT_FRACTION;
}

/** How long after its last confirmed renewal an attempt may still run: the self-fencing deadline, and the runner watchdog's window. */
export function selfFenceAfterMs(leaseSec: number): number {
  return leaseSec * 1000 * SELF_FENCE_FRACTION;
}

export interface SelfFenceInput {
  /** Time since the worker's last successful lease renewal. */
  silentMs: number;
  leaseSec: number;
  /** The worker's session is on a server that is not the primary. */
  unfit: boolean;
}

/** Whether a worker must kill its running attempts now: its leases may expire before it can renew them, or it is cut off from the primary. */
export function mustSelfFence(input: SelfFenceInput): boolean {
  return input.silentMs > selfFenceAfterMs(input.leaseSec) || input.unfit;
}
