// Keel roles as real child processes (`node bin/keel.js <role>`), for tests that kill them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { directUrlFor } from './db-url.js';

export const KEEL_BIN = fileURLToPath(new URL('../../bin/keel.js', import.meta.url));

export interface KeelProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Through PgBouncer (CI's second pass), a process's session and LISTEN connect directly. */
function sessionUrlOf(env: Record<string, string>): Record<string, string> {
  const url = env.KEEL_DATABASE_URL;
  return url && directUrlFor(url) !== url ? { KEEL_SESSION_DATABASE_URL: directUrlFor(url) } : {};
}

export function spawnKeel(args: string[], env: Record<string, string>, opts: { cwd?: string } = {}): KeelProcess {
  let out = '';
  const child = spawn(process.execPath, [KEEL_BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, KEEL_LOG_FORMAT: 'json', KEEL_LOG_LEVEL: 'info', ...sessionUrlOf(env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr?.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => out, exited };
}

export function killAll(list: KeelProcess[]): Promise<unknown> {
  for (const p of list) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  return Promise.all(list.map((p) => p.exited));
}

/**
 * Whether a process still runs. A dead process whose parent died first stays a zombie
 * until pid 1 reaps it, and some inits (this sandbox's) never do: a zombie is not running.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
