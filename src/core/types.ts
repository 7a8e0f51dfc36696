// Shared vocabulary of Keel: the serialized DAG (what the DAG processor stores and every
// other role reads) and the task-instance states. Plain data only, no behaviour.

export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'one_success',
  'one_failed',
  'none_failed',
  'none_skipped',
  'always',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/**
 * Task-instance states (Airflow's vocabulary):
 * - pending: created with its run, waiting for its upstream tasks
 * - scheduled: dependencies met, waiting for a pool slot / run budget
 * - queued: may be claimed by a worker
 * - running: one attempt holds it (attempt_id set, lease renewed)
 * - deferred: its attempt gave the worker slot back and waits on a trigger
 * - up_for_retry: failed, will return to scheduled at next_retry_at
 * - success, failed, skipped, upstream_failed, removed: final
 */
export const TASK_STATES = [
  'pending',
  'scheduled',
  'queued',
  'running',
  'deferred',
  'up_for_retry',
  'success',
  'failed',
  'skipped',
  'upstream_failed',
  'removed',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const FINAL_TASK_STATES: readonly TaskState[] = ['success', 'failed', 'skipped', 'upstream_failed', 'removed'];

export const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export type Schedule =
  | { kind: 'cron'; expression: string; timezone: string }
  | { kind: 'interval'; seconds: number }
  | { kind: 'none' };

/** A DAG parameter: a small JSON-Schema subset, stored with the DAG so that any role can validate a trigger. */
export interface ParamSpec {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  default?: unknown;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface RetryPolicy {
  /** Retries after the first try; 0 = one try only. */
  retries: number;
  retryDelaySec: number;
  exponentialBackoff: boolean;
  /** Cap for the (exponential) delay. */
  maxRetryDelaySec: number;
}

export interface SerializedTask extends RetryPolicy {
  taskId: string;
  kind: 'function' | 'shell';
  /** Shell command for kind 'shell'. */
  command?: string;
  /** Shell tasks: environment variables declared by the DAG, resolved by the runner when the attempt starts. */
  env?: Record<string, ShellEnvValue>;
  upstream: string[];
  triggerRule: TriggerRule;
  /** Seconds; null = no limit. */
  executionTimeoutSec: number | null;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  queue: string;
}

/** The connection fields a shell task's env may name; `uri` is the whole connection as a URI (Airflow's form). */
export const CONNECTION_FIELDS = ['uri', 'type', 'host', 'port', 'login', 'password', 'schema', 'extra'] as const;
export type ConnectionField = (typeof CONNECTION_FIELDS)[number];

/** One declared environment variable of a shell task: a literal, a variable's value, or a field of a connection (default: its uri). */
export type ShellEnvValue = string | { variable: string; default?: string } | { connection: string; field?: ConnectionField };

/** A connection as a task gets it, password decrypted. */
export interface TaskConnection {
  connId: string;
  connType: string;
  host: string | null;
  port: number | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  extra: Record<string, unknown>;
}

/** What a runner asks its worker for, for the attempt it runs. */
export type SecretRequest = { kind: 'variable'; key: string } | { kind: 'connection'; connId: string };

/** The worker's answer: the value (null: no such variable or connection), or why it cannot be had. */
export type SecretAnswer = { ok: true; value: string | TaskConnection | null } | { ok: false; error: string };

export interface SerializedDag {
  dagId: string;
  /** Path of the DAG file, relative to the DAGs folder. */
  fileloc: string;
  description: string | null;
  schedule: Schedule;
  /** ISO-8601 timestamp. */
  startDate: string;
  endDate: string | null;
  catchup: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
  tags: string[];
  params: Record<string, ParamSpec>;
  tasks: SerializedTask[];
}
