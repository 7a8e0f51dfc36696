// One scheduling decision for one DAG run: which pending task instances become
// scheduled, skipped or upstream_failed (trigger rules, cascading in topological order),
// which retries are due, and whether the run is finished. Pure: the scheduler applies it.
import { topologicalOrder, leafTaskIds } from './dag-graph.js';
import { decideReadiness } from './trigger-rules.js';
import { decideRunState } from './run-state.js';
import { canTransition } from './task-state.js';
import type { SerializedDag, TaskState } from './types.js';

export interface TaskInstanceView {
  id: string;
  taskId: string;
  state: TaskState;
  /** up_for_retry and its next_retry_at has passed (database clock). */
  retryDue: boolean;
}

export interface RunDecision {
  changes: { id: string; taskId: string; from: TaskState; to: TaskState }[];
  runState: 'running' | 'success' | 'failed';
}

const READINESS_STATE = { run: 'scheduled', skip: 'skipped', upstream_failed: 'upstream_failed' } as const;

export function decideRun(dag: SerializedDag, instances: readonly TaskInstanceView[]): RunDecision {
  const byTask = new Map(instances.map((ti) => [ti.taskId, ti]));
  const state = new Map(instances.map((ti) => [ti.taskId, ti.state]));
  const tasks = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const changes: RunDecision['changes'] = [];
  const change = (ti: TaskInstanceView, to: TaskState) => {
    // The state machine is the contract: a decision outside it is a bug, never a write.
    if (!canTransition(ti.state, to)) throw new Error(`task "${ti.taskId}": ${ti.state} → ${to} is not a legal transition`);
    changes.push({ id: ti.id, taskId: ti.taskId, from: ti.state, to });
    state.set(ti.taskId, to);
  };
  for (const taskId of topologicalOrder(dag.tasks)) {
    const ti = byTask.get(taskId);
    const task = tasks.get(taskId);
    if (!ti || !task) continue;
    if (ti.state === 'up_for_retry' && ti.retryDue) change(ti, 'scheduled');
    if (ti.state !== 'pending') continue;
    const upstream = task.upstream.map((u) => state.get(u) ?? 'removed');
    const readiness = decideReadiness(task.triggerRule, upstream);
    if (readiness !== 'wait') change(ti, READINESS_STATE[readiness]);
  }
  const leaves = leafTaskIds(dag.tasks);
  const runState = decideRunState(instances.map((ti) => ({ taskId: ti.taskId, state: state.get(ti.taskId)!, isLeaf: leaves.has(ti.taskId) })));
  return { changes, runState };
}
