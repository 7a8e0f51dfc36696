// What a database failover did to Keel, from plain rows: the database's own outage (from
// the write probe), how soon Keel worked again after it, and every sign that the failover
// alone cost Keel work (fenced or self-fenced attempts, components declared dead). Pure,
// so it is tested without a cluster.
import type { ProbeSample } from './probe.js';

export interface Outage {
  /** Fault → the first probe write that succeeded after the longest gap (ms). */
  outageMs: number;
  /** Wall-clock time the database accepted writes again. */
  backAt: number;
  failedWrites: number;
}

/**
 * The outage after a fault: the longest gap between two successful probe writes that
 * ends after the fault (a stalled write counts as part of the gap). Without any gap over
 * 3 probe intervals, the outage is 0 and backAt is the fault itself.
 */
export function outageAfter(samples: ProbeSample[], faultAt: number, everyMs = 100): Outage {
  const ok = samples.filter((s) => s.ok).sort((a, b) => a.doneAt - b.doneAt);
  const failedWrites = samples.filter((s) => !s.ok && s.sentAt >= faultAt).length;
  let best: { gap: number; end: number } | null = null;
  for (let i = 1; i < ok.length; i++) {
    const end = ok[i]!.doneAt;
    if (end < faultAt) continue;
    const start = Math.max(ok[i - 1]!.doneAt, faultAt);
    const gap = end - start;
    if (!best || gap > best.gap) best = { gap, end };
  }
  if (!best || best.gap <= everyMs * 3) return { outageMs: 0, backAt: faultAt, failedWrites };
  return { outageMs: best.end - faultAt, backAt: best.end, failedWrites };
}

/** The first time at or after `from` (ms), or null. */
export function firstAtOrAfter(times: Date[], from: number): number | null {
  let first: number | null = null;
  for (const t of times) {
    const v = t.getTime();
    if (v >= from && (first === null || v < first)) first = v;
  }
  return first;
}

export interface AttemptEnd { attempt_id: string; state: string; error: string | null; ended_at: Date | null }
export interface HaEventRow { kind: string; at: Date; details: unknown }

/**
 * Violations of "running tasks are not killed merely because the database failed over":
 * the scenarios inject no process fault, so any fenced attempt, any self-fenced one, any
 * attempt failed by an error other than the workload's planned one, and any zombie_fenced
 * event is the failover's doing.
 */
export function failoverCasualties(attempts: AttemptEnd[], events: HaEventRow[]): string[] {
  const out: string[] = [];
  for (const a of attempts) {
    if (a.state === 'fenced') out.push(`attempt ${a.attempt_id} was fenced (${a.error ?? 'no reason'})`);
    else if (a.error && /self-fenced/i.test(a.error)) out.push(`attempt ${a.attempt_id} self-fenced: ${a.error}`);
    else if (a.state === 'failed' && a.error && !/planned failure of the first try/.test(a.error)) out.push(`attempt ${a.attempt_id} failed: ${a.error}`);
  }
  for (const e of events) {
    if (e.kind === 'zombie_fenced') out.push(`HA event ${e.kind} at ${e.at.toISOString()}: ${JSON.stringify(e.details)}`);
  }
  return out;
}

/** Components declared dead (component_dead events) although no process was killed: false positives of the failover, by role. */
export function declaredDead(events: HaEventRow[]): string[] {
  return events.filter((e) => e.kind === 'component_dead').map((e) => {
    const d = (e.details ?? {}) as { role?: string; lastHeartbeatAt?: string };
    return `${d.role ?? '?'} declared dead at ${e.at.toISOString()} (last heartbeat ${d.lastHeartbeatAt ?? '?'})`;
  });
}

/** A chaos-checker violation that the loss of acknowledged commits explains (an acknowledged run missing, fewer runs than acknowledgements). */
export function isReplicationLoss(violation: string): boolean {
  if (/^acknowledged run \S+ of \S+ is missing$/.test(violation)) return true;
  // The ledger's finish row committed on the old primary and went with its unreplicated tail.
  if (/^task instance \S+: accepted attempt \S+ never finished in the ledger$/.test(violation)) return true;
  const counts = /^(\d+) runs exist for (\d+) acknowledged triggers$/.exec(violation);
  return counts !== null && Number(counts[1]) < Number(counts[2]);
}
