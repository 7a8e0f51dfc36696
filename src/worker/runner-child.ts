// Runner process: runs one attempt at a time for its worker. Task code runs here, so a
// task that throws, exits, loops or exhausts memory ends at most this process.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { UPSTREAM_FILE_ENV, upstreamEnvName, upstreamEnvValue } from '../core/task-env.js';
import type { SecretRequest, TaskConnection } from '../core/types.js';
import { importDagFile } from '../sdk/import-dag-file.js';
import type { Dag } from '../sdk/dag.js';
import type { TaskContext, TaskLogger } from '../sdk/context.js';
import { isTaskDeferral, TaskDeferral, type DeferOptions } from '../sdk/defer.js';
import { resolveShellEnv, secretAccessors } from '../sdk/secret-accessors.js';
import { parseTriggerSpec, type TriggerSpec } from '../deferral/triggers/spec.js';
import { LeaseWatchdog, watchdogNotice } from '../fencing/watchdog.js';
import type { ChildMessage, ParentMessage, RunRequest } from './runner-protocol.js';
import { LineTail, ShellTaskError, taskErrorText } from './failure-message.js';

const send = (m: ChildMessage) => process.send!(m);
let current: { attemptId: string; abort: AbortController } | null = null;
/** Upstream results larger than this are in KEEL_UPSTREAM_FILE only: one environment string may not pass 128 KiB (Linux), nor all of them 2 MiB. */
const UPSTREAM_ENV_MAX_BYTES = 32 * 1024;

/** Secret requests of the current attempt waiting for the worker's answer, by request id. */
const pending = new Map<number, { resolve: (v: string | TaskConnection | null) => void; reject: (e: Error) => void }>();
let lastRequestId = 0;

/** Asks the worker for a variable or connection, for the attempt this runner runs. */
function fetchSecret(request: SecretRequest): Promise<string | TaskConnection | null> {
  if (!current) return Promise.reject(new Error('variables and connections can be read only while the task runs'));
  const requestId = ++lastRequestId;
  const asked = new Promise<string | TaskConnection | null>((resolve, reject) => pending.set(requestId, { resolve, reject }));
  send({ type: 'secret', attemptId: current.attemptId, requestId, request });
  return asked;
}

// Watchdog (src/fencing/watchdog.ts): when the worker stops confirming the lease (it is
// frozen, or cut off from the database), this runner kills itself before the lease can
// expire and another attempt start. The worker's own self-fencing cannot help while the
// worker is frozen.
const watchdog = new LeaseWatchdog(Number(process.env.KEEL_RUNNER_WATCHDOG_MS ?? 0));
if (watchdog.windowMs > 0) {
  setInterval(() => {
    if (current && watchdog.expired(performance.now())) {
      process.stderr.write(`${watchdogNotice(current.attemptId, watchdog.windowMs)}\n`);
      try { process.kill(-process.pid, 'SIGKILL'); } catch { process.exit(1); }
    }
  }, 100).unref();
}

function log(line: string): void {
  if (current) send({ type: 'log', attemptId: current.attemptId, line });
  else process.stderr.write(`${line}\n`);
}

// Task output through console.* belongs to the attempt's log.
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[level] = (...args: unknown[]) => log(`${level === 'log' ? 'INFO' : level.toUpperCase()} ${format(...args)}`);
}

function taskLogger(): TaskLogger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    log(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  return { info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}

/** DAG files imported by this runner, by path, with the modification time they had. */
const imported = new Map<string, { mtimeMs: number; dags: Dag[] }>();

async function dagsOf(file: string): Promise<Dag[]> {
  const mtimeMs = statSync(file).mtimeMs;
  const cached = imported.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached.dags;
  const dags = await importDagFile(file, String(mtimeMs));
  imported.set(file, { mtimeMs, dags });
  return dags;
}

async function runFunction(req: RunRequest, signal: AbortSignal): Promise<unknown> {
  const dags = await dagsOf(req.file);
  const dag = dags.find((d) => d.id === req.dagId);
  if (!dag) throw new Error(`DAG "${req.dagId}" is no longer defined in ${req.file}`);
  const task = dag.tasks.find((t) => t.taskId === req.taskId);
  if (!task?.fn) throw new Error(`task "${req.taskId}" is no longer defined in DAG "${req.dagId}" (${req.file})`);
  const c = req.context;
  const ctx: TaskContext = {
    dagId: c.dagId, runId: c.runId, taskId: c.taskId,
    logicalDate: new Date(c.logicalDate),
    dataInterval: { start: new Date(c.dataIntervalStart), end: new Date(c.dataIntervalEnd) },
    tryNumber: c.tryNumber, maxTries: c.maxTries, attemptId: c.attemptId,
    params: c.params, upstream: c.upstream, log: taskLogger(), signal,
    resumed: c.resumed, triggerEvent: c.triggerEvent, ...secretAccessors(fetchSecret),
    defer(trigger: TriggerSpec, options: DeferOptions = {}): never {
      const timeoutSec = options.timeoutSec ?? null;
      if (timeoutSec !== null && !(timeoutSec > 0)) throw new TypeError(`defer: timeoutSec must be a positive number of seconds, got ${JSON.stringify(timeoutSec)}`);
      throw new TaskDeferral(parseTriggerSpec(trigger), timeoutSec);
    },
  };
  return await (task.fn as (ctx: TaskContext) => unknown)(ctx);
}

/** A shell task's environment: the runner's (already the allow-list, user-code-env.ts), its declared env, then Keel's variables. */
async function shellEnv(req: RunRequest, upstreamFile: string): Promise<NodeJS.ProcessEnv> {
  const c = req.context;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(req.env ? await resolveShellEnv(req.env, fetchSecret) : {}),
    KEEL_DAG_ID: c.dagId, KEEL_RUN_ID: c.runId, KEEL_TASK_ID: c.taskId, KEEL_LOGICAL_DATE: c.logicalDate,
    KEEL_TRY_NUMBER: String(c.tryNumber), KEEL_ATTEMPT_ID: c.attemptId, [UPSTREAM_FILE_ENV]: upstreamFile,
  };
  for (const [k, v] of Object.entries(c.params)) env[`KEEL_PARAM_${k.toUpperCase()}`] = typeof v === 'string' ? v : JSON.stringify(v);
  for (const [taskId, result] of Object.entries(c.upstream)) {
    const value = upstreamEnvValue(result);
    const bytes = Buffer.byteLength(value);
    if (bytes <= UPSTREAM_ENV_MAX_BYTES) env[upstreamEnvName(taskId)] = value;
    else log(`INFO the result of upstream task "${taskId}" is ${bytes} bytes, over ${UPSTREAM_ENV_MAX_BYTES}: it is in ${UPSTREAM_FILE_ENV} only, not in ${upstreamEnvName(taskId)}`);
  }
  return env;
}

/** Runs a shell task with its upstream results in a file of a temporary folder of its own, removed when it ends. */
async function runShell(req: RunRequest, signal: AbortSignal): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-upstream-'));
  try {
    const file = join(dir, 'upstream.json');
    await writeFile(file, JSON.stringify(req.context.upstream), { mode: 0o600 });
    return await runCommand(req, await shellEnv(req, file), signal);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runCommand(req: RunRequest, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', req.command ?? ''], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let lastLine = '';
    const stderrTail = new LineTail();
    const lines = (stream: NodeJS.ReadableStream, isStdout: boolean) => {
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const p of parts) {
          log(p);
          if (isStdout && p.trim()) lastLine = p;
          if (!isStdout) stderrTail.push(p);
        }
      });
      stream.on('end', () => {
        if (buf) {
          log(buf);
          if (isStdout && buf.trim()) lastLine = buf;
          if (!isStdout) stderrTail.push(buf);
        }
      });
    };
    lines(child.stdout, true);
    lines(child.stderr, false);
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch (err) {
        // ESRCH: the command and its children are gone already
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') log(`WARN could not kill the command: ${String(err)}`);
      }
    };
    signal.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => reject(new Error(`could not start bash: ${err.message}`)));
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', kill);
      if (code === 0) resolve(lastLine);
      else reject(new ShellTaskError(req.command ?? '', { code, signal: sig }, stderrTail.all));
    });
  });
}

async function run(req: RunRequest): Promise<void> {
  watchdog.started(performance.now());
  const abort = new AbortController();
  current = { attemptId: req.attemptId, abort };
  let msg: ChildMessage;
  try {
    const value = req.kind === 'shell' ? await runShell(req, abort.signal) : await runFunction(req, abort.signal);
    const json = JSON.stringify(value ?? null);
    if (json === undefined) throw new Error('the task returned a value that is not JSON (a function or symbol); return plain data');
    const bytes = Buffer.byteLength(json);
    if (bytes > req.resultMaxBytes) {
      throw new Error(`the task's result is ${bytes} bytes, over the limit of ${req.resultMaxBytes} (taskResultMaxBytes); store large data elsewhere and return a reference to it`);
    }
    msg = { type: 'done', attemptId: req.attemptId, ok: true, result: JSON.parse(json) };
  } catch (err) {
    const e = err as Error;
    if (isTaskDeferral(err)) msg = { type: 'done', attemptId: req.attemptId, ok: true, result: null, deferral: { trigger: err.trigger, timeoutSec: err.timeoutSec } };
    else msg = { type: 'done', attemptId: req.attemptId, ok: false, error: e instanceof Error ? taskErrorText(e) : format(err) };
  }
  current = null;
  for (const p of pending.values()) p.reject(new Error('the attempt ended before the worker answered'));
  pending.clear();
  send(msg);
}

process.on('message', (m: ParentMessage) => {
  if (m.type === 'run') void run(m);
  else if (m.type === 'abort' && current?.attemptId === m.attemptId) current.abort.abort(new Error(m.reason));
  else if (m.type === 'lease') watchdog.confirmed(performance.now(), m.validForMs);
  else if (m.type === 'secret') {
    const p = pending.get(m.requestId);
    pending.delete(m.requestId);
    if (m.answer.ok) p?.resolve(m.answer.value);
    else p?.reject(new Error(m.answer.error));
  }
});
// The worker is gone (killed or crashed): end the task and this process group. A shell
// command has a process group of its own (so that an abort reaches its children), which the
// runner's group kill would miss: aborting the task kills it first.
process.on('disconnect', () => {
  current?.abort.abort(new Error('the worker is gone'));
  try { process.kill(-process.pid, 'SIGKILL'); } catch { process.exit(1); }
});
process.on('unhandledRejection', (err) => log(`ERROR unhandled rejection: ${format(err)}`));
send({ type: 'ready' });
