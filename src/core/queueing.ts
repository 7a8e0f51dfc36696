// Which scheduled task instances to queue now: highest priority first, within pool slots and
// each run's max_active_tasks. Pure so the scheduler can feed it one query's rows and apply the
// answer in the same transaction.

export interface QueueCandidate {
  id: string;
  dagRunId: string;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  scheduledAt: Date;
}

function compare(a: QueueCandidate, b: QueueCandidate): number {
  if (a.priorityWeight !== b.priorityWeight) return b.priorityWeight - a.priorityWeight;
  const byTime = a.scheduledAt.getTime() - b.scheduledAt.getTime();
  if (byTime !== 0) return byTime; // oldest first, so equal priorities take turns
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Ids to queue, in the order they were picked. */
export function pickToQueue(args: {
  candidates: readonly QueueCandidate[];
  openPoolSlots: ReadonlyMap<string, number>;
  activeTasksPerRun: ReadonlyMap<string, number>;
  maxActiveTasksPerRun: ReadonlyMap<string, number>;
  limit: number;
}): string[] {
  const { candidates, openPoolSlots, activeTasksPerRun, maxActiveTasksPerRun, limit } = args;
  const open = new Map(openPoolSlots);
  const active = new Map(activeTasksPerRun);
  const picked: string[] = [];
  for (const c of [...candidates].sort(compare)) {
    if (picked.length >= limit) break;
    // A candidate that does not fit is skipped, not waited for: a big task must not starve
    // smaller, lower-priority ones in the same pool (nor a full run block other runs).
    const free = open.get(c.pool) ?? 0; // unknown pool: no slots
    if (free < c.poolSlots) continue;
    const running = active.get(c.dagRunId) ?? 0;
    const max = maxActiveTasksPerRun.get(c.dagRunId); // missing: unlimited
    if (max !== undefined && running >= max) continue;
    open.set(c.pool, free - c.poolSlots);
    active.set(c.dagRunId, running + 1);
    picked.push(c.id);
  }
  return picked;
}
