// What a failed task shows (the UI, `keel tasks list`, the attempt's error): for a shell
// task the command, how it ended and the end of its stderr, not the runner's own stack; for
// a function task the error with the DAG author's stack frames first and Keel's, tsx's and
// Node's frames trimmed to a count. Secrets are masked afterwards by the worker (masker.ts),
// like the log.
import { fileURLToPath } from 'node:url';

/** Stderr lines kept in a shell task's failure. */
export const STDERR_TAIL_LINES = 20;
/** A longer command is cut in the message (the whole command is in the DAG's code view). */
const COMMAND_MAX_CHARS = 500;

/** Keel's own sources: frames from here are Keel's, not the DAG author's. */
const KEEL_SRC = fileURLToPath(new URL('../', import.meta.url));

/** A shell command that failed; its stack is the message, since the runner's frames say nothing about the command. */
export class ShellTaskError extends Error {
  override name = 'ShellTaskError';
  constructor(command: string, end: { code: number | null; signal: NodeJS.Signals | null }, stderrTail: string[]) {
    const shown = command.length > COMMAND_MAX_CHARS ? `${command.slice(0, COMMAND_MAX_CHARS)}…` : command;
    const how = end.signal ? `was killed by ${end.signal}` : `exited with code ${end.code}`;
    const tail = stderrTail.length ? `\nlast ${stderrTail.length} line(s) of its stderr:\n${stderrTail.map((l) => `  ${l}`).join('\n')}` : '\n(no stderr output)';
    super(`command ${how}: ${shown}${tail}`);
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Keeps the last `max` lines written to a stream. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = STDERR_TAIL_LINES) {}

  push(line: string): void {
    if (!line.trim()) return;
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  get all(): string[] {
    return [...this.lines];
  }
}

const FRAME = /^\s+at /;

function isInternalFrame(line: string): boolean {
  const location = line.replace(/^.*\(/, '').replace(/^\s+at\s+/, '').replace(/\)$/, '');
  const path = location.startsWith('file://') ? fileURLToPath(location.replace(/:\d+:\d+$/, '')) : location;
  return path.startsWith('node:') || path.includes('/node_modules/') || path.startsWith(KEEL_SRC) || path === '<anonymous>' || path.startsWith('native');
}

/**
 * The stack of an error thrown by task code, the author's frames first: the message lines,
 * then the frames outside Keel, node_modules and Node itself, then how many others were trimmed.
 * Causes (`err.cause`) follow in the same form.
 */
export function taskErrorText(err: unknown, depth = 0): string {
  if (!(err instanceof Error)) return String(err);
  const stack = err.stack ?? `${err.name}: ${err.message}`;
  const lines = stack.split('\n');
  const firstFrame = lines.findIndex((l) => FRAME.test(l));
  if (firstFrame < 0) return withCause(stack, err, depth);
  const head = lines.slice(0, firstFrame);
  const frames = lines.slice(firstFrame).filter((l) => FRAME.test(l));
  const own = frames.filter((l) => !isInternalFrame(l));
  const trimmed = frames.length - own.length;
  const text = [...head, ...own, ...(trimmed ? [`    … ${trimmed} frame(s) of Keel, libraries and Node trimmed`] : [])].join('\n');
  return withCause(text, err, depth);
}

function withCause(text: string, err: Error, depth: number): string {
  return err.cause !== undefined && depth < 3 ? `${text}\ncaused by: ${taskErrorText(err.cause, depth + 1)}` : text;
}
