// Process handling for the cluster harness, by PID only: start a daemon as the `postgres`
// user (setpriv execs it, so the PID we record is the daemon's own), find a postmaster's
// children, kill a list of PIDs, and wait for them to be gone — a zombie counts as gone,
// since Patroni detaches the postmaster and PID 1 may never reap it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync } from 'node:fs';

export const SETPRIV = '/usr/bin/setpriv';

export function spawnAsPostgres(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const fd = openSync(logFile, 'a');
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? [SETPRIV, ['--reuid=postgres', '--regid=postgres', '--init-groups', command, ...args]] : [command, args];
  return spawn(cmd, argv, { stdio: ['ignore', fd, fd], env, detached: false });
}

/** 'R', 'S', 'Z', … or null when the process no longer exists. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  const s = processState(pid);
  return s !== null && s !== 'Z' && s !== 'X';
}

export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** The postmaster of a data directory, if one runs (first line of postmaster.pid, checked against /proc). */
export function postmasterPid(dataDir: string): number | null {
  const file = `${dataDir}/postmaster.pid`;
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  return commandLine(pid).includes(dataDir) ? pid : null;
}

export function killPids(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((p) => !isAlive(p))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pids.every((p) => !isAlive(p));
}
