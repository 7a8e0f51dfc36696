// Messages between a triggerer and its custom-trigger child process.

export interface CustomPollRequest {
  id: number;
  /** Absolute path of the DAG file that defines (or imports) the trigger. */
  file: string;
  name: string;
  args: unknown;
  timeoutMs: number;
}

export type CustomPollResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
