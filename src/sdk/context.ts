// What a task function receives. Built by the runner process for each attempt.
import type { TaskConnection } from '../core/types.js';
import type { TriggerSpec } from '../deferral/triggers/spec.js';
import type { DeferOptions } from './defer.js';

export interface TaskLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A connection with its password decrypted, and `uri`: all of it as one URI (type://login:password@host:port/schema?extra). */
export interface Connection extends TaskConnection {
  uri: string;
}

/**
 * Variables, read from the database by the worker when asked. A missing variable throws an
 * error naming its key, unless a default is given: `get('k', { default: 'x' })`.
 */
export interface TaskVariables {
  get(key: string): Promise<string>;
  get<D>(key: string, options: { default: D }): Promise<string | D>;
  /** The value parsed as JSON; a value that is not JSON throws an error naming the key. */
  getJson<T = unknown>(key: string): Promise<T>;
  getJson<T = unknown, D = T>(key: string, options: { default: D }): Promise<T | D>;
}

/** Connections, read by the worker when asked; a missing connection throws an error naming its id. */
export interface TaskConnections {
  get(connId: string): Promise<Connection>;
}

export interface TaskContext<P = Record<string, unknown>> {
  dagId: string;
  runId: string;
  taskId: string;
  logicalDate: Date;
  dataInterval: { start: Date; end: Date };
  /** 1 for the first try. */
  tryNumber: number;
  maxTries: number;
  /** Fencing token of this attempt: pass it to systems you write to, so they can refuse a stale attempt. */
  attemptId: string;
  params: P;
  /** JSON results of the upstream tasks, by task id. */
  upstream: Record<string, unknown>;
  log: TaskLogger;
  /** Aborted when the attempt times out, is fenced, or its worker shuts down. */
  signal: AbortSignal;
  /**
   * Gives the worker slot back and waits on a trigger; the task function runs again (same
   * try, new attempt id) when it fires, with the event in `triggerEvent`. Never returns.
   */
  defer(trigger: TriggerSpec, options?: DeferOptions): never;
  /** The event of the trigger this attempt resumed from; undefined on a first run. */
  triggerEvent: unknown;
  /** Whether this attempt resumes a deferral. */
  resumed: boolean;
  /** Variables (`await ctx.variables.get('key')`); sensitive ones are masked in the task's log. */
  variables: TaskVariables;
  /** Connections (`await ctx.connections.get('id')`); the password is masked in the task's log. */
  connections: TaskConnections;
}
