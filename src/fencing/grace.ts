// The outage grace: after a database disruption nothing is fenced for `dbOutageGraceSec`,
// because right then "lock gone, heartbeat stale, lease expired" describes the whole live
// fleet, still reconnecting. The cluster's part is decided in the database, by every
// fencing statement through keel_fencing_allowed() (migration 0009): no disruption was
// recorded, and the server did not start, within the grace, and no promotion went
// unrecorded. The one part the database cannot know is this process's own: a sweeper that
// started within the grace may have missed a disruption just before it came up, so it
// does not judge workers by their session lock yet (lease expiry stays the database's call).
// Rule "outage grace": src/fencing/INVARIANTS.md; docs/decisions/0003-no-fencing-during-a-disruption.md.

export class OutageGrace {
  private readonly since: number;

  /** now: a monotonic clock in ms (performance.now); the grace of this observer starts at its creation. */
  constructor(readonly graceSec: number, private readonly now: () => number = () => performance.now()) {
    this.since = now();
  }

  /** Whether this observer has been up for the grace, so that it may fence by lock absence (the database still decides the rest). */
  observedLongEnough(): boolean {
    return this.now() - this.since >= this.graceSec * 1000;
  }
}
