// What a task function receives. Built by the runner process for each attempt.

export interface TaskLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
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
}
