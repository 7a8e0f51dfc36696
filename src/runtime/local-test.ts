// `keel dags test` / `keel tasks test`: one DAG run (or one task) in this process, with no
// database and nothing stored. The DAG file is loaded by the DAG processor's loader child
// and validated as the DAG processor validates it; each try runs in the worker's runner
// process (the same context, timeouts, shell tasks, result limit); the decisions between
// tries are src/core/local-run.ts's, which are the scheduler's rules. Deferrals on local
// trigger kinds (time, file, http, custom) are waited on here; the kinds that read Keel's
// database (external events, other DAGs' states) fail their task with a message saying so.
import { localSecretAnswer } from './local-secrets.js';
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { validateDag } from '../core/dag-graph.js';
import {
  planStep, recordOutcome, recordTriggerEnd, startLocalRun, startSingleTaskRun, summarize,
  type LocalResume, type LocalRun, type LocalStart, type LocalTaskSummary,
} from '../core/local-run.js';
import { resolveParams } from '../core/params.js';
import type { SerializedDag } from '../core/types.js';
import { LoaderPool } from '../dag-processor/parse-file.js';
import { listDagFolder } from '../dag-processor/processor.js';
import { pollTrigger } from '../deferral/triggers/poll.js';
import { describeTrigger, LOCAL_TRIGGER_KINDS } from '../deferral/triggers/spec.js';
import { UsageError } from '../errors.js';
import { TASK_DEFAULTS } from '../sdk/serialize.js';
import type { Logger } from '../log.js';
import { Wakeup } from '../loop.js';
import { CustomTriggerHost } from '../triggerer/custom-host.js';
import { RunnerPool, type RunOutcome } from '../worker/runner-pool.js';
import type { Deferral, RunRequest } from '../worker/runner-protocol.js';

export interface LocalTestOptions {
  dagId: string;
  /** Only this task (`keel tasks test`), with `upstream` as its upstream tasks' results. */
  taskId?: string;
  upstream?: Record<string, unknown>;
  /** A DAG file anywhere; unset: the DAG is looked for in `dagsFolder`. */
  file?: string;
  dagsFolder: string;
  params?: Record<string, unknown>;
  logicalDate: Date;
  /** Tries run at once (at most the DAG's maxActiveTasks). */
  concurrency: number;
  /** Retries are due at once instead of after their delay. */
  noRetryDelay: boolean;
  dagFileTimeoutSec: number;
  taskEnvAllow: readonly string[];
  runnerMemoryMb: number;
  taskResultMaxBytes: number;
  log: Logger;
  /** Each line of progress: tries started and ended, their log lines, tasks settled. */
  out: (line: string) => void;
}

export interface LocalTestResult {
  dagId: string;
  runId: string;
  file: string;
  params: Record<string, unknown>;
  state: 'success' | 'failed';
  durationMs: number;
  tasks: LocalTaskSummary[];
}

const DAG_FILE = /\.(ts|mts|js|mjs)$/;

/** The DAG `dagId` and the file defining it: the file given, else the first file of the folder that defines it. */
async function findDag(o: LocalTestOptions): Promise<{ dag: SerializedDag; file: string }> {
  let files: { abs: string; fileloc: string }[];
  let where: string;
  if (o.file !== undefined) {
    const abs = resolve(o.file);
    if (!existsSync(abs) || !statSync(abs).isFile()) throw new UsageError(`--file ${o.file}: no such file`);
    if (!DAG_FILE.test(abs)) throw new UsageError(`--file ${o.file}: a DAG file ends in .ts, .mts, .js or .mjs`);
    files = [{ abs, fileloc: shown(abs) }];
    where = o.file;
  } else {
    const listing = listDagFolder(o.dagsFolder);
    if (!listing.ok) throw new UsageError(`cannot read the DAGs folder ${o.dagsFolder} (dagsFolder, --dags); give the file with --file`);
    files = listing.files.map((f) => ({ abs: join(o.dagsFolder, f), fileloc: f }));
    where = `the DAGs folder ${o.dagsFolder}`;
  }
  const loaders = new LoaderPool(o.taskEnvAllow);
  const found: string[] = [];
  const broken: string[] = [];
  try {
    for (const f of files) {
      const r = await loaders.load(f.abs, f.fileloc, '', o.dagFileTimeoutSec);
      if (!r.ok) {
        if (o.file !== undefined) throw new UsageError(`${o.file} failed to load: ${r.error}`);
        broken.push(`${f.fileloc}: ${r.error.split('\n')[0]}`);
        continue;
      }
      const dag = r.dags.find((d) => d.dagId === o.dagId);
      if (dag) return { dag, file: f.abs };
      found.push(...r.dags.map((d) => d.dagId));
    }
  } finally {
    loaders.close();
  }
  const ids = found.length ? `DAGs found: ${found.sort().join(', ')}` : 'no DAGs found';
  const errors = broken.length ? `; files that failed to import: ${broken.join('; ')}` : '';
  throw new UsageError(`DAG "${o.dagId}" is not defined in ${where} (${ids}${errors})`);
}

/** A path as a user reads it: relative to the working directory when inside it. */
function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Waits in this process for a local trigger kind to fire, fail or time out, as a triggerer would. */
async function waitForTrigger(deferral: Deferral, custom: () => CustomTriggerHost, file: string, signal: AbortSignal): Promise<LocalResume> {
  const spec = deferral.trigger;
  const deadline = deferral.timeoutSec === null ? Infinity : Date.now() + deferral.timeoutSec * 1000;
  for (;;) {
    const res = await pollTrigger(spec, { signal, pollCustom: (s) => custom().poll(s, basename(file)) });
    if (res.fired) return 'event' in res.envelope ? { event: res.envelope.event } : { error: 'error' in res.envelope ? res.envelope.error : res.envelope.timeout };
    const left = deadline - Date.now();
    if (left <= 0) return { error: `the deferral timed out after ${deferral.timeoutSec} s waiting for ${describeTrigger(spec)}` };
    await new Promise((r) => setTimeout(r, Math.min(res.nextInMs, left)));
    if (signal.aborted) return { error: 'the local run was stopped' };
  }
}

export async function localTest(o: LocalTestOptions): Promise<LocalTestResult> {
  const concurrency = Math.max(1, o.concurrency);
  // Runners start (about a second each) while the DAG file loads.
  const runners = new RunnerPool({
    size: concurrency, spares: 0, memoryMb: o.runnerMemoryMb, maxTasksPerRunner: Number.MAX_SAFE_INTEGER,
    watchdogMs: 0, envAllow: o.taskEnvAllow, answerSecret: localSecretAnswer(process.env), log: o.log,
  });
  const started = runners.start();
  started.catch((err) => o.log.debug({ err }, 'no runner process started; each try reports why'));
  let customHost = null as CustomTriggerHost | null;
  const stop = new AbortController();
  try {
    const { dag, file } = await findDag(o);
    const problems = validateDag(dag);
    if (problems.length) throw new UsageError(`DAG "${dag.dagId}" in ${shown(file)} is not valid: ${problems.join('; ')}`);
    const params = resolveParams(dag.params, o.params);
    if (!params.ok) throw new UsageError(`invalid params for DAG "${dag.dagId}": ${params.errors.join('; ')}`);
    let run: LocalRun;
    try {
      run = o.taskId === undefined ? startLocalRun(dag) : startSingleTaskRun(dag, o.taskId, o.upstream ?? {});
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const runId = `local__${o.logicalDate.toISOString()}`;
    const custom = () => (customHost ??= new CustomTriggerHost(dirname(file), o.taskEnvAllow));
    o.out(`${o.taskId === undefined ? 'DAG' : `task ${o.taskId} of DAG`} ${dag.dagId} from ${shown(file)}: run ${runId}, params ${JSON.stringify(params.params)}`);
    for (const t of run.instances.values()) {
      if (t.task.pool !== TASK_DEFAULTS.pool) o.out(`note: task ${t.task.taskId} uses pool "${t.task.pool}", which a local run does not check (pools live in the database); it must exist where the DAG is deployed (PUT /api/v1/pools/${t.task.pool})`);
    }

    const wakeup = new Wakeup();
    let busy = 0;
    const began = Date.now();
    const context = (s: LocalStart, attemptId: string): RunRequest['context'] => ({
      dagId: dag.dagId, runId, taskId: s.taskId, logicalDate: o.logicalDate.toISOString(),
      dataIntervalStart: o.logicalDate.toISOString(), dataIntervalEnd: o.logicalDate.toISOString(),
      tryNumber: s.tryNumber, maxTries: s.maxTries, attemptId, params: params.params, upstream: s.upstream,
      resumed: s.resume !== null, triggerEvent: s.resume && 'event' in s.resume ? s.resume.event : undefined,
    });
    const runTry = async (s: LocalStart): Promise<void> => {
      const task = run.instances.get(s.taskId)!.task;
      const tag = `[${s.taskId}]`;
      const t0 = Date.now();
      let outcome: RunOutcome;
      if (s.resume && 'error' in s.resume) outcome = { ok: false, error: s.resume.error };
      else {
        const attemptId = randomUUID();
        o.out(`${tag} try ${s.tryNumber}/${s.maxTries}${s.resume ? ', resuming from its trigger' : ''}`);
        const req: RunRequest = {
          type: 'run', attemptId, file, dagId: dag.dagId, taskId: s.taskId, kind: task.kind, command: task.command,
          resultMaxBytes: o.taskResultMaxBytes, context: context(s, attemptId),
        };
        outcome = await runners.run(req, task.executionTimeoutSec, (line) => o.out(`${tag} ${line}`), stop.signal);
      }
      const took = seconds(Date.now() - t0);
      const deferral = outcome.ok ? outcome.deferral : undefined;
      if (deferral && !LOCAL_TRIGGER_KINDS.includes(deferral.trigger.kind)) {
        const error = `it deferred on a trigger of kind "${deferral.trigger.kind}" (${describeTrigger(deferral.trigger)}), which reads Keel's database; a local run has none, so this task fails without retries. Test it on a running Keel (keel standalone)`;
        recordOutcome(run, s.taskId, { kind: 'unsupported', error }, Date.now());
        o.out(`${tag} failed in ${took} (try ${s.tryNumber}/${s.maxTries}): ${error}`);
      } else if (deferral) {
        recordOutcome(run, s.taskId, { kind: 'deferred' }, Date.now());
        o.out(`${tag} deferred after ${took}: waits for ${describeTrigger(deferral.trigger)}${deferral.timeoutSec ? ` (timeout ${deferral.timeoutSec} s)` : ''}`);
        busy++;
        void waitForTrigger(deferral, custom, file, stop.signal).catch((err: Error): LocalResume => ({ error: `waiting for the trigger failed: ${err.message}` })).then((resume) => {
          o.out(`${tag} ${'event' in resume ? 'trigger fired' : `trigger ended without firing: ${resume.error}`}`);
          recordTriggerEnd(run, s.taskId, resume);
          busy--;
          wakeup.wake();
        });
      } else if (outcome.ok) {
        recordOutcome(run, s.taskId, { kind: 'success', result: outcome.result }, Date.now());
        o.out(`${tag} success in ${took} (try ${s.tryNumber}/${s.maxTries}), result ${shortJson(outcome.result)}`);
      } else {
        const end = recordOutcome(run, s.taskId, { kind: 'failure', error: outcome.error }, Date.now(), o.noRetryDelay);
        const then = end.state === 'up_for_retry' ? `; up for retry ${o.noRetryDelay ? 'at once (--no-retry-delay)' : `in ${end.retryInSec} s${end.retryInSec! >= 5 ? ' (--no-retry-delay: at once)' : ''}`}` : s.tryNumber < s.maxTries ? '' : '; no retries left';
        const [first, ...rest] = outcome.error.split('\n');
        o.out(`${tag} failed in ${took} (try ${s.tryNumber}/${s.maxTries}): ${first}${then}`);
        for (const line of rest) o.out(`${tag}   ${line}`);
      }
    };

    for (;;) {
      const step = planStep(run, Date.now(), concurrency);
      for (const s of step.settled) o.out(`[${s.taskId}] ${s.state}`);
      for (const s of step.start) {
        busy++;
        void runTry(s).catch((err) => o.log.error({ err, taskId: s.taskId }, 'a local try could not be recorded')).finally(() => {
          busy--;
          wakeup.wake();
        });
      }
      if (step.runState !== 'running') {
        const tasks = summarize(run);
        o.out(`run ${step.runState} in ${seconds(Date.now() - began)}`);
        return { dagId: dag.dagId, runId, file, params: params.params, state: step.runState, durationMs: Date.now() - began, tasks };
      }
      if (busy === 0 && step.start.length === 0 && step.nextRetryAt === null) throw new Error('the local run has tasks left but nothing to run or wait for; this is a bug in Keel');
      await wakeup.wait(step.nextRetryAt === null ? 60_000 : Math.max(0, step.nextRetryAt - Date.now()));
    }
  } finally {
    stop.abort(new Error('the local run ended'));
    customHost?.close();
    await runners.close();
  }
}
