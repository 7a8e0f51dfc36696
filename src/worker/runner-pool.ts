// Warm runner processes for a worker. Each attempt runs in one of them; a runner that
// dies, times out or is fenced is killed with its whole process group and replaced.
// A runner serves the attempts of one DAG only: task code can patch its process (wrap
// process.send, keep globals), so another DAG's logs and results never pass through it.
// Runners see an allow-listed environment (user-code-env.ts), never the worker's own.
import { fork, type ChildProcess } from 'node:child_process';
import { TSX_IMPORT, childEntry } from '../child-process.js';
import { endedByWatchdog, WATCHDOG_REASON } from '../fencing/watchdog.js';
import { userCodeEnv } from '../user-code-env.js';
import type { Logger } from '../log.js';
import type { SecretAnswer } from '../core/types.js';
import type { ChildMessage, Deferral, ParentMessage, RunRequest, SecretMessage } from './runner-protocol.js';

const RUNNER = childEntry('./worker/runner-child.ts');
/** Time a task gets to react to its abort signal before its process group is killed. */
const ABORT_GRACE_MS = 500;

/** How an attempt's run ended; a task that deferred itself ends ok with its deferral. */
export type RunOutcome = { ok: true; result: unknown; deferral?: Deferral } | { ok: false; error: string };

export interface RunnerPoolOptions {
  /** Runners started up front and kept alive: the worker's concurrency. */
  size: number;
  /** Idle runners kept beyond `size`, each bound to the DAG it served (no retirement until then). */
  spares: number;
  memoryMb: number;
  maxTasksPerRunner: number;
  /** A runner whose lease is not confirmed for this long kills itself (0: never). */
  watchdogMs: number;
  /** Variables of the worker's environment that task code may see besides the fixed list (taskEnvAllow). */
  envAllow: readonly string[];
  /**
   * Answers a runner's request for a variable or connection; `running`: the attempt that
   * runner runs as the pool knows it (null: none), whatever attempt the message names.
   */
  answerSecret: (running: string | null, m: SecretMessage) => Promise<SecretAnswer>;
  log: Logger;
}

interface ActiveRun {
  attemptId: string;
  onLog: (line: string) => void;
  resolve: (o: RunOutcome) => void;
  timer: NodeJS.Timeout | null;
  /** Set when we end the run ourselves (timeout, fence, shutdown): the reason reported. */
  killedFor: string | null;
}

class Runner {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  served = 0;
  /** Attempts this runner serves before it is replaced; spread ±25 % so that runners do not all restart together. */
  readonly retireAfter: number;
  active: ActiveRun | null = null;
  /** Set once the runner said it is ready: a task given to it starts without waiting. */
  isReady = false;
  /** The DAG whose attempts this runner serves, from its first attempt on; null: fresh. */
  dagId: string | null = null;
  private stderrTail = '';
  exited = false;

  constructor(private readonly opts: RunnerPoolOptions, private readonly onExit: (r: Runner) => void) {
    this.retireAfter = Math.max(1, Math.round(opts.maxTasksPerRunner * (0.75 + Math.random() * 0.5)));
    this.child = fork(RUNNER, [], {
      execArgv: ['--import', TSX_IMPORT, `--max-old-space-size=${opts.memoryMb}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true, // its own process group, so a kill reaches the task's children too
      env: userCodeEnv(process.env, opts.envAllow, { KEEL_RUNNER: '1', KEEL_RUNNER_WATCHDOG_MS: String(opts.watchdogMs) }),
    });
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (m: ChildMessage) => {
        if (m.type === 'ready') {
          this.child.off('message', onMessage);
          this.isReady = true;
          resolve();
        }
      };
      this.child.on('message', onMessage);
      this.child.once('exit', () => reject(new Error(`runner process exited while starting: ${this.stderrTail.trim()}`)));
    });
    this.ready.catch((err) => opts.log.debug({ err }, 'a runner process ended before it was ready; the attempt waiting for it, if any, fails with this error'));
    this.child.on('message', (m: ChildMessage) => this.handle(m));
    // Errors of the channel (a send racing the runner's death) end in 'exit', handled below.
    this.child.on('error', (err) => opts.log.debug({ err }, 'runner process channel error; its exit is handled'));
    const capture = (c: Buffer) => {
      const text = c.toString();
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      if (this.active) for (const line of text.split('\n')) if (line) this.active.onLog(line);
    };
    this.child.stdout?.on('data', capture);
    this.child.stderr?.on('data', capture);
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      const run = this.active;
      if (run) {
        const oom = /heap out of memory|Allocation failed/i.test(this.stderrTail);
        const reason = run.killedFor
          ?? (endedByWatchdog(this.stderrTail) ? WATCHDOG_REASON : null)
          ?? (oom ? `the task ran out of memory (runner heap limit ${opts.memoryMb} MB, runnerMemoryMb)`
            : `the runner process ended during the task (exit code ${code ?? 'none'}, signal ${signal ?? 'none'}); did the task call process.exit?`);
        this.finish({ ok: false, error: reason });
      }
      this.onExit(this);
    });
  }

  /**
   * Sends to the runner; a runner that just died (its pipe closed) is not an error here:
   * its exit handler reports the attempt's end.
   */
  send(message: ParentMessage): void {
    if (!this.child.connected) return;
    this.child.send(message, (err) => {
      if (err) this.stderrTail = `${this.stderrTail}\n[send failed: ${err.message}]`.slice(-4000);
    });
  }

  private handle(m: ChildMessage): void {
    if (m.type === 'secret') {
      void this.answerSecret(m);
      return;
    }
    const run = this.active;
    if (!run || m.type === 'ready' || m.attemptId !== run.attemptId) return;
    if (m.type === 'log') run.onLog(m.line);
    else if (m.type === 'done') this.finish(m.ok ? { ok: true, result: m.result, ...(m.deferral ? { deferral: m.deferral } : {}) } : { ok: false, error: m.error });
  }

  /** Answers this runner only, and only while it still runs the attempt it ran when it asked. */
  private async answerSecret(m: SecretMessage): Promise<void> {
    const running = this.active?.attemptId ?? null;
    const answer = await this.opts.answerSecret(running, m);
    if (running !== null && this.active?.attemptId === running) this.send({ type: 'secret', requestId: m.requestId, answer });
  }

  private finish(outcome: RunOutcome): void {
    const run = this.active;
    if (!run) return;
    this.active = null;
    if (run.timer) clearTimeout(run.timer);
    run.resolve(run.killedFor && outcome.ok === false ? { ok: false, error: run.killedFor } : outcome);
  }

  /** Aborts the task's signal, then kills the process group after graceMs. */
  kill(reason: string, graceMs = 0): void {
    const run = this.active;
    if (run && !run.killedFor) run.killedFor = reason;
    const hard = () => {
      try { process.kill(-this.child.pid!, 'SIGKILL'); } catch { this.child.kill('SIGKILL'); }
    };
    if (run && graceMs > 0 && this.child.connected) {
      this.send({ type: 'abort', attemptId: run.attemptId, reason });
      setTimeout(hard, graceMs).unref();
    } else hard();
  }
}

export class RunnerPool {
  private idle: Runner[] = [];
  private readonly all = new Set<Runner>();
  private readonly byAttempt = new Map<string, Runner>();
  private closed = false;

  constructor(private readonly opts: RunnerPoolOptions) {}

  /**
   * Starts the warm runners, idle from the start, and waits until the first is ready: a
   * worker (re)started under load takes work as soon as it can run a task, while the
   * others start (about a CPU-second each; tasks prefer ready runners).
   */
  async start(): Promise<void> {
    const runners = Array.from({ length: this.opts.size }, () => this.spawn());
    this.idle.push(...runners);
    await Promise.any(runners.map((r) => r.ready));
  }

  /** A new runner; when one exits (retired, crashed, killed), a fresh one replaces it in the background. */
  private spawn(): Runner {
    const runner = new Runner(this.opts, (r) => {
      this.all.delete(r);
      this.idle = this.idle.filter((x) => x !== r);
      if (!this.closed && this.all.size < this.opts.size) this.idle.push(this.spawn());
    });
    this.all.add(runner);
    return runner;
  }

  /**
   * An idle runner of this DAG, else a fresh one (ready ones first, so that no task waits
   * for a runner to start while a started one idles); else a new one is started, and once
   * the pool holds size + spares runners, the idle runner of another DAG that waited
   * longest is retired for it.
   */
  private async take(dagId: string): Promise<Runner> {
    this.idle = this.idle.filter((r) => !r.exited);
    const candidates = [(r: Runner) => r.isReady && r.dagId === dagId, (r: Runner) => r.isReady && r.dagId === null,
      (r: Runner) => r.dagId === dagId, (r: Runner) => r.dagId === null];
    let runner: Runner | undefined;
    for (const fits of candidates) if ((runner = this.idle.find(fits))) break;
    if (runner) this.idle = this.idle.filter((r) => r !== runner);
    else {
      const retired = this.all.size >= this.opts.size + this.opts.spares ? this.idle.shift() : undefined;
      runner = this.spawn();
      // Its exit must not start a replacement: the new runner is that replacement.
      if (retired) {
        this.all.delete(retired);
        retired.kill('retired: its slot goes to another DAG');
      }
    }
    runner.dagId = dagId;
    await runner.ready;
    return runner;
  }

  /**
   * Runs one attempt; resolves with its outcome whatever happens to the runner. Aborting
   * `stop` ends the attempt (fenced, self-fenced, handed back): at once if it runs, and
   * before it starts if it still waits for a runner, which may take seconds to start.
   */
  async run(req: RunRequest, timeoutSec: number | null, onLog: (line: string) => void, stop: AbortSignal): Promise<RunOutcome> {
    const stopped = (): RunOutcome => ({ ok: false, error: String(stop.reason) });
    if (stop.aborted) return stopped();
    let runner: Runner;
    try {
      runner = await this.take(req.dagId);
    } catch (err) {
      return { ok: false, error: `no runner process could be started: ${(err as Error).message}` };
    }
    if (stop.aborted) {
      this.idle.push(runner);
      return stopped();
    }
    this.byAttempt.set(req.attemptId, runner);
    const onStop = () => runner.kill(String(stop.reason), ABORT_GRACE_MS);
    stop.addEventListener('abort', onStop, { once: true });
    const outcome = await new Promise<RunOutcome>((resolve) => {
      const run: ActiveRun = { attemptId: req.attemptId, onLog, resolve, timer: null, killedFor: null };
      if (runner.exited || !runner.child.connected) {
        resolve({ ok: false, error: 'the runner process ended before the task could start' });
        return;
      }
      runner.active = run;
      if (timeoutSec !== null) {
        run.timer = setTimeout(() => runner.kill(`the task timed out after ${timeoutSec}s (executionTimeoutSec) and was killed`, ABORT_GRACE_MS), timeoutSec * 1000);
      }
      runner.send(req);
    });
    stop.removeEventListener('abort', onStop);
    this.byAttempt.delete(req.attemptId);
    runner.served++;
    if (!runner.exited) {
      if (runner.served >= runner.retireAfter) runner.kill('retired');
      else this.idle.push(runner);
    }
    return outcome;
  }

  /**
   * Tells the runners of these attempts that their leases were renewed. Only these: a
   * fenced attempt's runner gets no confirmation, so its watchdog ends it even if its kill
   * does not.
   */
  leaseRenewed(attemptIds: Iterable<string>, validForMs: number): void {
    for (const id of attemptIds) this.byAttempt.get(id)?.send({ type: 'lease', validForMs });
  }

  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.all].map((r) => new Promise<void>((res) => (r.exited ? res() : r.child.once('exit', () => res()))));
    for (const r of this.all) r.kill('worker stopped');
    await Promise.all(exits);
  }
}
