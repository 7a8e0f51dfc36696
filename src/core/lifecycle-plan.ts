// What an operator's clear or mark touches (Airflow's "Clear" and "Mark success / failed"
// dialogs), decided from the DAG's graph and the task instances as the caller saw them.
// Pure: src/runs/lifecycle.ts applies the plan with updates conditional on every state and
// attempt id listed here, so a plan made on stale rows changes nothing.
import { downstreamMap } from './dag-graph.js';
import { isFinal } from './task-state.js';
import type { SerializedTask, TaskState } from './types.js';

export interface SelectOptions {
  /** Every task downstream of the named ones (transitively), as Airflow's "Downstream". */
  downstream?: boolean;
  /** Every task upstream of the named ones (transitively), as Airflow's "Upstream". */
  upstream?: boolean;
  /**
   * Grow the selection both ways until it is closed: every task linked to a named one by any
   * path (Keel has no cross-DAG markers, so this is Airflow's "Recursive" within the DAG).
   */
  recursive?: boolean;
}

/** A task instance as the operator saw it: the compare-and-set values of the apply step. */
export interface SeenInstance {
  taskId: string;
  state: TaskState;
  attemptId: string | null;
  tryNumber: number;
  /** Its last attempt was stopped by an operator (mark, cancel) and its runner may still be alive. */
  stopping: boolean;
}

export class PlanError extends Error {}

/** The task ids a clear or mark of `roots` reaches (all tasks when roots is null), in DAG order. */
export function selectTasks(tasks: readonly SerializedTask[], roots: readonly string[] | null, opts: SelectOptions = {}): string[] {
  const known = new Set(tasks.map((t) => t.taskId));
  if (roots === null) return tasks.map((t) => t.taskId);
  const unknown = roots.filter((r) => !known.has(r));
  if (unknown.length) throw new PlanError(`unknown task${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; the DAG has ${[...known].join(', ')}`);
  const down = downstreamMap(tasks);
  const up = new Map(tasks.map((t) => [t.taskId, t.upstream.filter((u) => known.has(u))]));
  const chosen = new Set(roots);
  const walk = (start: Iterable<string>, edges: Map<string, string[]>) => {
    const todo = [...start];
    for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
      for (const next of edges.get(id) ?? []) {
        if (!chosen.has(next)) {
          chosen.add(next);
          todo.push(next);
        }
      }
    }
  };
  if (opts.recursive) {
    const both = new Map(tasks.map((t) => [t.taskId, [...(down.get(t.taskId) ?? []), ...(up.get(t.taskId) ?? [])]]));
    walk(roots, both);
  } else {
    if (opts.downstream) walk(roots, down);
    if (opts.upstream) walk(roots, up);
  }
  return tasks.map((t) => t.taskId).filter((id) => chosen.has(id));
}

const FAILED: readonly TaskState[] = ['failed', 'upstream_failed'];
/** States a clear takes back to pending: final ones, and a retry not yet started. */
const CLEARABLE = (s: TaskState) => isFinal(s) || s === 'up_for_retry';
/** States with an attempt that may be live: a clear must wait for it, never start a second one. */
const LIVE = (s: TaskState) => s === 'queued' || s === 'running' || s === 'deferred';

export interface ClearPlan {
  /** Task instances that go back to pending, with the state and attempt they were seen in. */
  clear: SeenInstance[];
}

/**
 * Which of the selected task instances a clear takes back to pending. onlyFailed keeps the
 * failed and upstream_failed ones (Airflow's "Only failed"). A selection that holds a live
 * attempt (queued, running, deferred) or an attempt still being stopped is refused whole:
 * clearing it would start a second attempt beside the live one.
 */
export function planClear(selected: readonly string[], instances: readonly SeenInstance[], opts: { onlyFailed?: boolean } = {}): ClearPlan {
  const byTask = new Map(instances.map((i) => [i.taskId, i]));
  const picked = selected.map((id) => byTask.get(id)).filter((i): i is SeenInstance => i !== undefined)
    .filter((i) => !opts.onlyFailed || FAILED.includes(i.state));
  const busy = picked.filter((i) => LIVE(i.state) || (CLEARABLE(i.state) && i.stopping));
  if (busy.length) {
    throw new PlanError(`cannot clear while an attempt is live: ${busy.map((b) => `${b.taskId} (${b.stopping && !LIVE(b.state) ? `${b.state}, its stopped attempt has not ended yet` : b.state})`).join(', ')}; `
      + 'wait for it to end, or mark it failed first');
  }
  return { clear: picked.filter((i) => CLEARABLE(i.state)) };
}

export type MarkState = 'success' | 'failed';

/**
 * Which of the selected task instances a mark sets to `to`: every one in another state. A
 * running or deferred one has its attempt stopped (fenced), so it cannot write a result
 * after the mark. When `unfinishedOnly`, final ones keep their state (marking a run failed
 * leaves its successful tasks alone).
 */
export function planMark(selected: readonly string[], instances: readonly SeenInstance[], to: MarkState, opts: { unfinishedOnly?: boolean } = {}): SeenInstance[] {
  const byTask = new Map(instances.map((i) => [i.taskId, i]));
  return selected.map((id) => byTask.get(id)).filter((i): i is SeenInstance => i !== undefined)
    .filter((i) => i.state !== to && !(opts.unfinishedOnly && isFinal(i.state)));
}

/**
 * The compare step of a confirmed dialog: the plan made now must be the one the operator
 * confirmed, instance by instance (same tasks, states and attempts); otherwise nothing is
 * applied and the operator looks again.
 */
export function confirmedPlanProblem(plan: readonly SeenInstance[], expected: readonly { taskId: string; state: string; attemptId: string | null }[]): string | null {
  const now = new Map(plan.map((p) => [p.taskId, p]));
  const seen = new Map(expected.map((e) => [e.taskId, e]));
  const changed: string[] = [];
  for (const [taskId, p] of now) {
    const e = seen.get(taskId);
    if (!e) changed.push(`${taskId} (now ${p.state}, not in the confirmed list)`);
    else if (e.state !== p.state || (e.attemptId ?? null) !== p.attemptId) changed.push(`${taskId} (confirmed ${e.state}, now ${p.state}${p.attemptId !== (e.attemptId ?? null) ? ', another attempt' : ''})`);
  }
  for (const taskId of seen.keys()) if (!now.has(taskId)) changed.push(`${taskId} (no longer part of it)`);
  return changed.length ? `the task instances changed since they were listed: ${changed.join(', ')}; list them again` : null;
}
