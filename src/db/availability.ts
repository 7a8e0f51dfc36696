// Whether a process finds a database unreachable, and sleeps that end when it is back. A
// failover ends at a moment nobody announces: every retry backoff and idle loop of a
// process would otherwise wake on its own timer, up to a backoff cap after the database
// returned. Here the first call that reaches the database again wakes all the others.
//
// While nothing else gets through, a probe (one cheap connection at a time, every
// PROBE_EVERY_MS) looks for the database's return, so that the wake-up does not wait for
// the next backoff of whichever call happens to retry first.
//
// A Database keeps one per URL it uses (src/db/database.ts), so that in a process talking
// to several databases (tests) one database's successes do not wake the retries of another
// that is still down.
import type { Logger } from '../log.js';

/** How often a lost database is probed. */
export const PROBE_EVERY_MS = 150;

type BackListener = () => void;

export class Availability {
  private down = false;
  private readonly listeners = new Set<BackListener>();
  private lostAt = 0;
  /** Outages this process saw end (lost, then reached again), and their time in all. */
  outages = 0;
  outageMsTotal = 0;
  private probe: (() => Promise<void>) | null = null;
  private probeLog: Logger | undefined;
  private probing = false;

  get unreachable(): boolean {
    return this.down;
  }

  /** A connection was lost or refused. */
  lost(): void {
    if (this.down) return;
    this.down = true;
    this.lostAt = performance.now();
    void this.probeUntilBack();
  }

  /**
   * While the database is lost, call `probe` (it throws unless the database is usable) every
   * PROBE_EVERY_MS until it succeeds or the database is reached otherwise; each failure is
   * logged at debug on `log`. Returns the stop.
   */
  probeWith(probe: () => Promise<void>, log?: Logger): () => void {
    this.probe = probe;
    this.probeLog = log;
    if (this.down) void this.probeUntilBack();
    return () => {
      if (this.probe === probe) this.probe = null;
    };
  }

  private async probeUntilBack(): Promise<void> {
    if (this.probing || !this.probe) return;
    this.probing = true;
    try {
      while (this.down && this.probe) {
        await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS).unref());
        const probe = this.probe;
        if (!this.down || !probe) break;
        try {
          await probe();
          this.reached();
        } catch (err) {
          this.probeLog?.debug({ err }, 'database still unreachable; probing again');
        }
      }
    } finally {
      this.probing = false;
    }
  }

  /** A call went through: if the database had been unreachable, everyone waiting is woken. */
  reached(): void {
    if (!this.down) return;
    this.down = false;
    this.outages++;
    this.outageMsTotal += performance.now() - this.lostAt;
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` each time the database is reached after being unreachable; returns the unsubscribe. */
  onBack(listener: BackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sleeps `ms`, or less: until the database is reached again; true when it ended early.
   * `unref`: the timer alone does not keep the process alive.
   */
  sleep(ms: number, opts: { unref?: boolean } = {}): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (early: boolean) => {
        clearTimeout(timer);
        off();
        resolve(early);
      };
      const timer = setTimeout(() => done(false), ms);
      if (opts.unref) timer.unref();
      const off = this.onBack(() => done(true));
    });
  }
}

/**
 * A retry loop's pause: ends early when the database is reached again, but not twice in a
 * row, so that a call that keeps failing while others succeed still backs off instead of
 * retrying at the rate of their successes.
 */
export function retryPause(availability: Availability, opts: { unref?: boolean } = {}): (ms: number) => Promise<void> {
  let wokenEarly = false;
  return async (ms) => {
    if (availability.unreachable && !wokenEarly) {
      wokenEarly = await availability.sleep(ms, opts);
      return;
    }
    wokenEarly = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      if (opts.unref) timer.unref();
    });
  };
}
