// Messages between a worker and its runner processes.
import type { SecretAnswer, SecretRequest, ShellEnvValue } from '../core/types.js';
import type { CallbackKind } from '../core/callbacks.js';
import type { TriggerSpec } from '../deferral/triggers/spec.js';

/** A task that deferred itself: what it waits on. */
export interface Deferral {
  trigger: TriggerSpec;
  timeoutSec: number | null;
}

export interface RunRequest {
  type: 'run';
  attemptId: string;
  file: string;
  dagId: string;
  taskId: string;
  kind: 'function' | 'shell';
  command?: string;
  /** Shell tasks: the env their DAG declares, resolved by the runner through secret requests. */
  env?: Record<string, ShellEnvValue>;
  resultMaxBytes: number;
  context: {
    dagId: string;
    runId: string;
    taskId: string;
    logicalDate: string;
    dataIntervalStart: string;
    dataIntervalEnd: string;
    tryNumber: number;
    maxTries: number;
    attemptId: string;
    params: Record<string, unknown>;
    upstream: Record<string, unknown>;
    /** Set when this attempt resumes a deferral: the trigger's event. */
    resumed: boolean;
    triggerEvent: unknown;
  };
}

/** Run a callback of the DAG file (onFailure ...): found by kind, and task id for a task's callback. */
export interface CallbackRequest {
  type: 'callback';
  /** The callback's claim id: its fencing token, standing for the attempt id in lease and done messages. */
  attemptId: string;
  file: string;
  dagId: string;
  /** null for a DAG-level callback. */
  taskId: string | null;
  kind: CallbackKind;
  context: {
    callbackId: string;
    dagId: string;
    runId: string;
    taskId?: string;
    tryNumber?: number;
    error?: string;
    state: string;
    reason?: string;
    deadline?: string;
    logicalDate: string;
    params: Record<string, unknown>;
  };
}

export type ParentMessage =
  | RunRequest
  | CallbackRequest
  | { type: 'abort'; attemptId: string; reason: string }
  /** The worker renewed the leases: the running attempt may go on for validForMs more. */
  | { type: 'lease'; validForMs: number }
  /** The answer to the runner's SecretMessage of that requestId. */
  | { type: 'secret'; requestId: number; answer: SecretAnswer };

/** A runner asks its worker for a variable or connection, for the attempt it runs (the worker refuses any other attempt id). */
export interface SecretMessage {
  type: 'secret';
  attemptId: string;
  requestId: number;
  request: SecretRequest;
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'log'; attemptId: string; line: string }
  | SecretMessage
  | { type: 'done'; attemptId: string; ok: true; result: unknown; deferral?: Deferral }
  | { type: 'done'; attemptId: string; ok: false; error: string };
