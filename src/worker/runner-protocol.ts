// Messages between a worker and its runner processes.
import type { SecretAnswer, SecretRequest, ShellEnvValue } from '../core/types.js';
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

export type ParentMessage =
  | RunRequest
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
