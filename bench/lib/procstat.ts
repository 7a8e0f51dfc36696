// CPU time of process trees from /proc (Linux): a role process with its runner children, the
// PostgreSQL postmaster with its backends. Children that exited and were reaped are in their
// parent's cutime/cstime, so the sum over a tree only grows and differences are meaningful.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSec: number | null = null;
function clockTicks(): number {
  if (ticksPerSec === null) {
    try {
      ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSec = 100;
    }
  }
  return ticksPerSec;
}

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime of the process, and cutime + cstime of its reaped children, in ticks. */
  own: number;
  reaped: number;
}

function readStat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): field n is f[n - 3].
    return { pid, ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

export const procAvailable = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

export interface TreeCpu {
  /** The root and every descendant, alive or reaped. */
  total: number;
  /** The root process alone. */
  own: number;
}

/** CPU seconds consumed so far by each tree (root pid → seconds). */
export function treeCpuSeconds(roots: readonly number[]): Map<number, TreeCpu> {
  const out = new Map<number, TreeCpu>();
  if (!procAvailable || roots.length === 0) return out;
  const stats: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) stats.push(s);
  }
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const hz = clockTicks();
  for (const root of roots) {
    const r = byPid.get(root);
    if (!r) continue;
    let ticks = r.reaped;
    const stack = [r];
    while (stack.length) {
      const s = stack.pop()!;
      ticks += s.own;
      for (const c of children.get(s.pid) ?? []) {
        ticks += c.reaped;
        stack.push(c);
      }
    }
    out.set(root, { total: ticks / hz, own: r.own / hz });
  }
  return out;
}

/** Busy CPU seconds of the whole machine so far (every process, ours and others'). */
export function machineBusySeconds(): number | null {
  if (!procAvailable) return null;
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / clockTicks();
  } catch {
    return null;
  }
}
