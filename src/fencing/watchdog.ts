// The runner's lease watchdog, pure. A frozen worker (SIGSTOP, a stalled host) cannot fence
// itself, so the runner process that runs the attempt counts down on its own: each lease
// renewal the worker confirms moves its deadline, and once the deadline passes the runner
// kills itself before the lease can expire and another attempt start. The runner writes
// its notice on stderr, which is how the worker tells this end from any other crash.
// Rule "runner watchdog": src/fencing/INVARIANTS.md; docs/decisions/0002-dead-workers-by-session-lock.md.

const NOTICE = 'self-fenced: the worker did not confirm the lease';

/** What the attempt's record says when the watchdog ended it. */
export const WATCHDOG_REASON = 'self-fenced: the runner stopped the attempt because its worker did not confirm the lease in time (worker frozen or cut off)';

export class LeaseWatchdog {
  private validUntil = Infinity;

  /** windowMs: how long an attempt may run without a confirmation (0: never stopped). */
  constructor(readonly windowMs: number) {}

  /** An attempt starts: it has the whole window. */
  started(now: number): void {
    this.validUntil = now + this.windowMs;
  }

  /** The worker renewed the lease: the attempt may run validForMs more. */
  confirmed(now: number, validForMs: number): void {
    this.validUntil = now + validForMs;
  }

  expired(now: number): boolean {
    return this.windowMs > 0 && now > this.validUntil;
  }
}

/** The runner's last words before it kills itself. */
export function watchdogNotice(attemptId: string, windowMs: number): string {
  return `${NOTICE} of attempt ${attemptId} for ${windowMs} ms`;
}

/** Whether a runner's output shows that its watchdog ended it. */
export function endedByWatchdog(output: string): boolean {
  return output.includes(NOTICE);
}
