// The outage grace: after a database disruption nothing is fenced for `dbOutageGraceSec`,
// because right then "lock gone, heartbeat stale, lease expired" describes the whole live
// fleet, still reconnecting. The cluster's part is decided in the database, by every
// fencing statement through keel_fencing_allowed() (migration 0009): no disruption was
// recorded, and the server did not start, within the grace, and no promotion went
// unrecorded. The one part the database cannot know is this process's own: a sweeper that
// started within the grace may have missed a disruption just before it came up, so it
// judges a worker by its session lock only on evidence that the worker's process died
// (orphanProvenGone); lease expiry stays the database's call.
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

/** An orphan as the sweep sees it: session lock gone, heartbeat stale. */
export interface Orphan {
  lastHeartbeatAt: Date;
  pid: number | null;
  /** PROCESS_NAMESPACE of the orphan's process, from its heartbeat details. */
  processNamespace: string | null;
}

export interface OrphanEvidence {
  /** backend_start of the oldest session holding a component lock now (null: none visible). */
  oldestSurvivingSession: Date | null;
  /** This sweeper's PROCESS_NAMESPACE. */
  processNamespace: string | null;
  processGone: (pid: number) => boolean;
}

/**
 * Whether a sweeper that came up within the grace may fence this orphan: only when its
 * process is shown to have died, not its connection cut with everyone else's.
 * - A session that holds its lock since before the orphan's last heartbeat: a disruption
 *   after that heartbeat would have ended it too, so none happened; the orphan's session
 *   ended alone.
 * - The orphan ran in this sweeper's pid namespace and its pid is gone.
 */
export function orphanProvenGone(o: Orphan, e: OrphanEvidence): boolean {
  if (e.oldestSurvivingSession !== null && e.oldestSurvivingSession.getTime() < o.lastHeartbeatAt.getTime()) return true;
  return o.pid !== null && o.processNamespace !== null && o.processNamespace === e.processNamespace && e.processGone(o.pid);
}
