// Keel's real roles for one scenario: dag-processor, scheduler(s) and worker(s).
//
// Default: each role is its own OS process, `node bin/keel.js <role>` with KEEL_* variables,
// as in production; each role gets its own event loop and the bench's polling does not share
// a thread with them. `--mode=inprocess` runs them through startRole() inside the bench
// process instead (what test/support/cluster.ts does), which is cheaper but lets the roles
// and the bench compete for one event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadOptions } from '../../src/config/load.js';
import { OPTION_SPECS, type OptionName } from '../../src/config/options.js';
import { startRole, type RoleName, type RunningRole } from '../../src/runtime/roles.js';
import { treeCpuSeconds } from './procstat.js';
import { sleep, TimeoutError } from './stats.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEEL_BIN = join(REPO_ROOT, 'bin', 'keel.js');

export type Mode = 'processes' | 'inprocess';

export interface ClusterSpec {
  mode: Mode;
  databaseUrl: string;
  dagsFolder: string;
  logDir: string;
  schedulers: number;
  workers: number;
  /** Keel options for every role (workerConcurrency, logLevel, …), as loadOptions overrides. */
  options: Partial<Record<OptionName, string | number>>;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

interface Member {
  name: string;
  role: RoleName;
  pid: number | null;
  logFile: string;
  stop(): Promise<void>;
}

export interface Cluster {
  members: { name: string; role: RoleName; pid: number | null; logFile: string }[];
  /** CPU seconds so far per member: with its child processes (`name`) and of its child processes alone (`name:children`). Empty in-process. */
  cpu(): Record<string, number>;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

function envFor(spec: ClusterSpec): NodeJS.ProcessEnv {
  // The caller's own KEEL_* settings must not leak into a measurement.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEEL_')));
  const all = { ...spec.options, databaseUrl: spec.databaseUrl, dagsFolder: spec.dagsFolder, logFormat: 'json' };
  for (const [k, v] of Object.entries(all)) {
    const spec = OPTION_SPECS[k as OptionName];
    if (!spec) throw new Error(`bench: unknown Keel option ${k}`);
    env[spec.env] = String(v);
  }
  // An empty config file: keel.config.json in the repository must not apply either.
  env.KEEL_CONFIG = join(spec.logDir, 'keel.config.json');
  writeFileSync(env.KEEL_CONFIG, '{}\n');
  return env;
}

function readyLine(role: RoleName): string {
  return `"msg":"keel ${role} running"`;
}

async function waitReady(name: string, logFile: string, role: RoleName, child: ChildProcess | null, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (existsSync(logFile) && readFileSync(logFile, 'utf8').includes(readyLine(role))) return;
    if (child && child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} while starting:\n${tail(logFile, 15)}`);
    await sleep(100);
  }
  throw new TimeoutError(`${name} not ready after ${timeoutMs} ms:\n${tail(logFile, 15)}`);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function startProcess(spec: ClusterSpec, name: string, role: RoleName): Promise<Member> {
  const logFile = join(spec.logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [KEEL_BIN, role], { cwd: REPO_ROOT, env: envFor(spec), stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = sleep(spec.stopTimeoutMs).then(() => 'timeout' as const);
    if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    await waitReady(name, logFile, role, child, spec.startTimeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name, role, pid: child.pid ?? null, logFile, stop };
}

async function startInProcess(spec: ClusterSpec, name: string, role: RoleName): Promise<Member> {
  const logFile = join(spec.logDir, `${name}.log`);
  const options = loadOptions({ env: {}, noConfigFile: true, overrides: { ...spec.options, databaseUrl: spec.databaseUrl, dagsFolder: spec.dagsFolder, logFormat: 'json' } });
  const log = pino({ level: options.logLevel, name: role, base: { pid: process.pid } }, pino.destination({ dest: logFile, sync: true }));
  const running: RunningRole = await startRole(role, options, log);
  return { name, role, pid: null, logFile, stop: () => running.stop() };
}

export async function startCluster(spec: ClusterSpec): Promise<Cluster> {
  const plan: [string, RoleName][] = [['dag-processor', 'dag-processor']];
  for (let i = 1; i <= spec.schedulers; i++) plan.push([spec.schedulers > 1 ? `scheduler-${i}` : 'scheduler', 'scheduler']);
  for (let i = 1; i <= spec.workers; i++) plan.push([spec.workers > 1 ? `worker-${i}` : 'worker', 'worker']);
  const start = spec.mode === 'processes' ? startProcess : startInProcess;
  // Started together: their start-up (tsx, warm runner processes) is not measured.
  const results = await Promise.allSettled(plan.map(([name, role]) => start(spec, name, role)));
  const members = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const stop = async () => {
    // Workers first (they drain), then schedulers, then the DAG processor.
    for (const m of [...members].reverse()) await m.stop().catch(() => {});
  };
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return {
    members: members.map(({ name, role, pid, logFile }) => ({ name, role, pid, logFile })),
    cpu: () => {
      const pids = members.map((m) => m.pid).filter((p): p is number => p !== null);
      const cpu = treeCpuSeconds(pids);
      const out: Record<string, number> = {};
      for (const m of members) {
        const c = m.pid === null ? undefined : cpu.get(m.pid);
        if (!c) continue;
        out[m.name] = c.total;
        if (m.role === 'worker') out[`${m.name}:runners`] = c.total - c.own;
      }
      return out;
    },
    stop,
    logTail: (lines = 10) => members.map((m) => `--- ${m.name} (${m.logFile})\n${tail(m.logFile, lines)}`).join('\n'),
  };
}
