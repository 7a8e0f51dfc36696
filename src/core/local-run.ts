// A DAG run held in memory (`keel dags test`, `keel tasks test`): the same decisions as a
// run in the database, taken by the same rules (decideRun: trigger rules and due retries;
// decideRetry: the retry policy; the task state machine), with no scheduler, pool or
// worker in between. Pure: the caller runs the tries, waits on triggers and keeps the clock.
import { topologicalOrder } from './dag-graph.js';
import { decideRetry } from './retry-policy.js';
import { decideRun } from './run-decision.js';
import { canTransition } from './task-state.js';
import type { SerializedDag, SerializedTask, TaskState } from './types.js';

/** How a deferral ended: the trigger's event, or why the task fails without running again. */
export type LocalResume = { event: unknown } | { error: string };

export interface LocalTry {
  tryNumber: number;
  startedAt: number;
  endedAt: number | null;
  /** Set on an attempt that resumed from a trigger. */
  resumed: boolean;
}

export interface LocalTaskInstance {
  task: SerializedTask;
  state: TaskState;
  /** The try running or last run; 0 before the first. */
  tryNumber: number;
  maxTries: number;
  /** up_for_retry: when the retry is due (the caller's clock, ms). */
  retryAt: number | null;
  /** deferred, then scheduled: how the trigger ended, for the attempt that resumes. */
  resume: LocalResume | null;
  result: unknown;
  error: string | null;
  attempts: LocalTry[];
}

export interface LocalRun {
  dag: SerializedDag;
  instances: Map<string, LocalTaskInstance>;
  /** Results of upstream tasks that are not part of this run (`tasks test --upstream`). */
  givenUpstream: Record<string, unknown>;
}

/** A try to start now; `resume` set: the attempt resumes a deferral (same try). */
export interface LocalStart {
  taskId: string;
  tryNumber: number;
  maxTries: number;
  resume: LocalResume | null;
  upstream: Record<string, unknown>;
}

export interface LocalStep {
  start: LocalStart[];
  /** Tasks this step settled without running them (skipped, upstream_failed). */
  settled: { taskId: string; state: TaskState }[];
  runState: 'running' | 'success' | 'failed';
  /** Nothing runs or waits on a trigger, a retry does: when the earliest one is due. */
  nextRetryAt: number | null;
}

export type LocalOutcome =
  | { kind: 'success'; result: unknown }
  | { kind: 'failure'; error: string }
  | { kind: 'deferred' }
  /** What a local run cannot do (a trigger that needs Keel's database): failed, no retry, since another try would end the same way. */
  | { kind: 'unsupported'; error: string };

export type LocalEnd = { state: TaskState; retryInSec: number | null };

export function startLocalRun(dag: SerializedDag): LocalRun {
  const instances = new Map<string, LocalTaskInstance>();
  for (const task of dag.tasks) {
    instances.set(task.taskId, {
      task, state: 'pending', tryNumber: 0, maxTries: task.retries + 1, retryAt: null, resume: null, result: null, error: null, attempts: [],
    });
  }
  return { dag, instances, givenUpstream: {} };
}

/**
 * A run of one task of `dag`, its dependencies dropped (`keel tasks test`): the results of
 * its upstream tasks are the `upstream` given, keyed by task id; an id that is not an
 * upstream task of it is an error naming the ones that are.
 */
export function startSingleTaskRun(dag: SerializedDag, taskId: string, upstream: Record<string, unknown>): LocalRun {
  const task = dag.tasks.find((t) => t.taskId === taskId);
  if (!task) throw new Error(`DAG "${dag.dagId}" has no task "${taskId}"; its tasks: ${dag.tasks.map((t) => t.taskId).join(', ')}`);
  const unknown = Object.keys(upstream).filter((k) => !task.upstream.includes(k));
  if (unknown.length) {
    const ids = task.upstream.length ? `its upstream tasks: ${task.upstream.join(', ')}` : 'it has no upstream tasks';
    throw new Error(`--upstream names ${unknown.map((k) => `"${k}"`).join(', ')}, not an upstream task of "${taskId}"; ${ids}`);
  }
  // The run's DAG has the task without dependencies, so it starts at once; its instance keeps
  // the task as declared, so that its context gets its upstream ids.
  const run = startLocalRun({ ...dag, tasks: [{ ...task, upstream: [] }] });
  run.instances.get(taskId)!.task = task;
  run.givenUpstream = upstream;
  return run;
}

function move(ti: LocalTaskInstance, to: TaskState): void {
  if (!canTransition(ti.state, to)) throw new Error(`task "${ti.task.taskId}": ${ti.state} → ${to} is not a legal transition`);
  ti.state = to;
}

/** Results of a task's upstream tasks as a worker passes them: every upstream id, null unless it succeeded with one. */
function upstreamResults(run: LocalRun, task: SerializedTask): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const u of task.upstream) {
    const up = run.instances.get(u);
    out[u] = up ? (up.state === 'success' ? up.result : null) : run.givenUpstream[u] ?? null;
  }
  return out;
}

/**
 * One turn: decides pending tasks and due retries (decideRun), then starts scheduled tasks,
 * highest priorityWeight first then in dependency order, while fewer than `slots` (capped by
 * the DAG's maxActiveTasks) run. Mutates `run`.
 */
export function planStep(run: LocalRun, now: number, slots: number): LocalStep {
  const views = [...run.instances.values()].map((ti) => ({
    id: ti.task.taskId, taskId: ti.task.taskId, state: ti.state, retryDue: ti.state === 'up_for_retry' && (ti.retryAt ?? 0) <= now,
  }));
  const decision = decideRun(run.dag, views);
  const settled: LocalStep['settled'] = [];
  for (const c of decision.changes) {
    const ti = run.instances.get(c.taskId)!;
    move(ti, c.to);
    if (c.to === 'scheduled') ti.retryAt = null;
    else settled.push({ taskId: c.taskId, state: c.to });
  }
  const order = new Map(topologicalOrder(run.dag.tasks).map((id, i) => [id, i]));
  const active = [...run.instances.values()].filter((ti) => ti.state === 'running').length;
  const free = Math.max(0, Math.min(slots, run.dag.maxActiveTasks) - active);
  const ready = [...run.instances.values()].filter((ti) => ti.state === 'scheduled')
    .sort((a, b) => b.task.priorityWeight - a.task.priorityWeight || order.get(a.task.taskId)! - order.get(b.task.taskId)!)
    .slice(0, free);
  const start: LocalStart[] = ready.map((ti) => {
    move(ti, 'queued');
    move(ti, 'running');
    const resume = ti.resume;
    ti.resume = null;
    // A resumed deferral is the same try, as in the database (a new attempt of it).
    if (!resume) ti.tryNumber++;
    ti.attempts.push({ tryNumber: ti.tryNumber, startedAt: now, endedAt: null, resumed: resume !== null });
    return { taskId: ti.task.taskId, tryNumber: ti.tryNumber, maxTries: ti.maxTries, resume, upstream: upstreamResults(run, ti.task) };
  });
  const busy = [...run.instances.values()].some((ti) => ti.state === 'running' || ti.state === 'deferred');
  const retries = [...run.instances.values()].filter((ti) => ti.state === 'up_for_retry').map((ti) => ti.retryAt ?? now);
  return { start, settled, runState: decision.runState, nextRetryAt: !busy && retries.length ? Math.min(...retries) : null };
}

/**
 * Records how a running try ended. A failure is retried per the task's policy (decideRetry);
 * `noRetryDelay` makes the retry due at once (`--no-retry-delay`) without changing how many.
 */
export function recordOutcome(run: LocalRun, taskId: string, outcome: LocalOutcome, now: number, noRetryDelay = false): LocalEnd {
  const ti = run.instances.get(taskId);
  if (!ti || ti.state !== 'running') throw new Error(`task "${taskId}" is not running`);
  const attempt = ti.attempts.at(-1)!;
  attempt.endedAt = now;
  switch (outcome.kind) {
    case 'success':
      move(ti, 'success');
      ti.result = outcome.result;
      ti.error = null;
      return { state: 'success', retryInSec: null };
    case 'deferred':
      move(ti, 'deferred');
      return { state: 'deferred', retryInSec: null };
    case 'unsupported':
      move(ti, 'failed');
      ti.error = outcome.error;
      return { state: 'failed', retryInSec: null };
    case 'failure': {
      ti.error = outcome.error;
      const retry = decideRetry(ti.task, ti.tryNumber);
      if (!retry.retry) {
        move(ti, 'failed');
        return { state: 'failed', retryInSec: null };
      }
      move(ti, 'up_for_retry');
      const delaySec = noRetryDelay ? 0 : retry.delaySec;
      ti.retryAt = now + delaySec * 1000;
      return { state: 'up_for_retry', retryInSec: delaySec };
    }
  }
}

/** A deferred task's trigger fired, failed or timed out: it is scheduled to resume (or to fail without running, per its retry policy). */
export function recordTriggerEnd(run: LocalRun, taskId: string, resume: LocalResume): void {
  const ti = run.instances.get(taskId);
  if (!ti || ti.state !== 'deferred') throw new Error(`task "${taskId}" is not deferred`);
  move(ti, 'scheduled');
  ti.resume = resume;
}

export interface LocalTaskSummary {
  taskId: string;
  state: TaskState;
  tryNumber: number;
  maxTries: number;
  /** Time spent running, summed over its attempts (ms). */
  durationMs: number;
  result: unknown;
  error: string | null;
}

/** Every task of the run in dependency order, with its final state and the time it ran. */
export function summarize(run: LocalRun): LocalTaskSummary[] {
  return topologicalOrder(run.dag.tasks).map((id) => {
    const ti = run.instances.get(id)!;
    const durationMs = ti.attempts.reduce((ms, a) => ms + ((a.endedAt ?? a.startedAt) - a.startedAt), 0);
    return { taskId: id, state: ti.state, tryNumber: ti.tryNumber, maxTries: ti.maxTries, durationMs, result: ti.result, error: ti.error };
  });
}
