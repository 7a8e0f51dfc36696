// Callbacks and deadlines, the pure part: which callback an outcome calls, the key that
// makes a callback's record unique (docs/decisions/0008-callbacks-recorded-once.md), and
// when a run's deadline falls.
import type { DagCallbackName, DeadlineSpec, SerializedDag, SerializedTask, TaskCallbackName } from './types.js';

export type CallbackKind = 'on_success' | 'on_failure' | 'on_retry' | 'on_deadline_missed';
export type TaskCallbackKind = 'on_success' | 'on_failure' | 'on_retry';
export type RunCallbackKind = 'on_success' | 'on_failure';

export const TASK_CALLBACKS: readonly TaskCallbackName[] = ['onFailure', 'onSuccess', 'onRetry'];
export const DAG_CALLBACKS: readonly DagCallbackName[] = ['onFailure', 'onSuccess', 'onDeadlineMissed'];

const KIND_OF: Record<TaskCallbackName | DagCallbackName, CallbackKind> = {
  onFailure: 'on_failure', onSuccess: 'on_success', onRetry: 'on_retry', onDeadlineMissed: 'on_deadline_missed',
};
const NAME_OF: Record<CallbackKind, TaskCallbackName | DagCallbackName> = {
  on_failure: 'onFailure', on_success: 'onSuccess', on_retry: 'onRetry', on_deadline_missed: 'onDeadlineMissed',
};

/** The option name (onFailure ...) of a callback kind: what the runner looks up in the DAG file. */
export function callbackOption(kind: CallbackKind): TaskCallbackName | DagCallbackName {
  return NAME_OF[kind];
}

/** The callback a task's end calls, if the task defines it. */
export function taskCallbackFor(task: Pick<SerializedTask, 'callbacks'>, state: 'success' | 'failed' | 'up_for_retry'): TaskCallbackKind | null {
  const name: TaskCallbackName = state === 'success' ? 'onSuccess' : state === 'failed' ? 'onFailure' : 'onRetry';
  return task.callbacks?.includes(name) ? (KIND_OF[name] as TaskCallbackKind) : null;
}

/** The callback a run's end calls, if the DAG defines it. */
export function runCallbackFor(dag: Pick<SerializedDag, 'callbacks'>, state: 'success' | 'failed'): RunCallbackKind | null {
  const name: DagCallbackName = state === 'success' ? 'onSuccess' : 'onFailure';
  return dag.callbacks?.includes(name) ? (KIND_OF[name] as RunCallbackKind) : null;
}

export function deadlineCallbackFor(dag: Pick<SerializedDag, 'callbacks'>): 'on_deadline_missed' | null {
  return dag.callbacks?.includes('onDeadlineMissed') ? 'on_deadline_missed' : null;
}

/** An event that calls a callback: a task's try ended, a run ended (its nth end), a run missed its deadline. */
export type CallbackEvent =
  | { kind: TaskCallbackKind; dagRunId: string; taskId: string; tryNumber: number }
  | { kind: RunCallbackKind; dagRunId: string; runEnd: number }
  | { kind: 'on_deadline_missed'; dagRunId: string };

export interface CallbackKey {
  kind: CallbackKind;
  dagRunId: string;
  /** '' for a DAG-level callback. */
  taskId: string;
  /** The try number (a task's end), the run's end number (a cleared run ends again), 0 (the deadline: one per run). */
  seq: number;
}

/** The unique key of the callback table: one record per event, however often the transaction that records it runs. */
export function callbackKey(e: CallbackEvent): CallbackKey {
  if ('taskId' in e) return { kind: e.kind, dagRunId: e.dagRunId, taskId: e.taskId, seq: e.tryNumber };
  if ('runEnd' in e) return { kind: e.kind, dagRunId: e.dagRunId, taskId: '', seq: e.runEnd };
  return { kind: e.kind, dagRunId: e.dagRunId, taskId: '', seq: 0 };
}

/** `deadline` of the DAG options → its stored form; throws naming the field and the fix. */
export function parseDeadline(input: unknown): DeadlineSpec | undefined {
  if (input === undefined || input === null) return undefined;
  const where = 'deadline';
  if (typeof input !== 'object') throw new Error(`${where}: expected { afterLogicalDateSec: seconds } or { afterQueuedSec: seconds }, got ${JSON.stringify(input)}`);
  const o = input as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1 || !['afterLogicalDateSec', 'afterQueuedSec'].includes(keys[0]!)) {
    throw new Error(`${where}: expected exactly one of afterLogicalDateSec or afterQueuedSec, got ${JSON.stringify(input)}`);
  }
  const offsetSec = o[keys[0]!];
  if (!(typeof offsetSec === 'number' && Number.isFinite(offsetSec) && offsetSec >= 0)) {
    throw new Error(`${where}.${keys[0]}: must be a number of seconds >= 0, got ${JSON.stringify(offsetSec)}`);
  }
  return { reference: keys[0] === 'afterLogicalDateSec' ? 'logical_date' : 'queued_at', offsetSec };
}

/** Problems with a stored deadline and run timeout, each naming the field; empty when fine. */
export function validateRunLimits(dag: Pick<SerializedDag, 'deadline' | 'dagRunTimeoutSec'>): string[] {
  const errors: string[] = [];
  const t = dag.dagRunTimeoutSec;
  if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && t > 0)) {
    errors.push(`dagRunTimeoutSec must be a number of seconds > 0 (or left out for no limit), got ${JSON.stringify(t)}`);
  }
  const d = dag.deadline;
  if (d !== undefined) {
    if (d.reference !== 'logical_date' && d.reference !== 'queued_at') errors.push(`deadline.reference must be logical_date or queued_at, got ${JSON.stringify(d.reference)}`);
    if (!(typeof d.offsetSec === 'number' && Number.isFinite(d.offsetSec) && d.offsetSec >= 0)) errors.push(`deadline.offsetSec must be a number of seconds >= 0, got ${JSON.stringify(d.offsetSec)}`);
  }
  return errors;
}

/** When a run must be finished by; null without a deadline. `queuedAt` is the run's creation time (database clock). */
export function deadlineAt(spec: DeadlineSpec | undefined, run: { logicalDate: Date; queuedAt: Date }): Date | null {
  if (!spec) return null;
  const from = spec.reference === 'logical_date' ? run.logicalDate : run.queuedAt;
  return new Date(from.getTime() + spec.offsetSec * 1000);
}
