// The worker role: claim queued task instances, run each attempt in a warm runner
// process, renew the attempts' leases, end each attempt with a write conditional on its
// attempt id. It fences itself: when it cannot renew leases for most of a lease, it kills
// its attempts before any scheduler may consider them dead and start them elsewhere. The
// rules (deadlines, when to self-fence) are src/fencing/'s; see src/fencing/INVARIANTS.md.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { findTask } from '../core/dag-lookup.js';
import { NO_RETRIES } from '../core/retry-policy.js';
import type { SerializedTask } from '../core/types.js';
import { DagVersionCache } from '../db/dag-versions.js';
import { decideLockedRuns, queueScheduled, type LockedRun } from '../runs/run-steps.js';
import type { Database, Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../log.js';
import { Wakeup } from '../loop.js';
import { endAttempt } from '../fencing/end-attempt.js';
import { mustSelfFence, renewalTimeoutMs, renewEveryMs, selfFenceAfterMs } from '../fencing/lease.js';
import { describeTrigger, type ResumeEnvelope } from '../deferral/triggers/spec.js';
import { BundleCache } from '../runs/dag-bundle.js';
import { SecretBox } from '../secrets/secret-box.js';
import { AttemptLog } from './attempt-log.js';
import { WorkerCallbacks } from './callbacks.js';
import { deferAttempt } from './defer-attempt.js';
import { KnownSecrets } from './known-secrets.js';
import { RunnerPool, type RunOutcome } from './runner-pool.js';
import { TaskSecrets } from './task-secrets.js';
import type { Deferral, RunRequest } from './runner-protocol.js';

export interface WorkerOptions {
  componentId: string;
  dagsFolder: string;
  concurrency: number;
  queues: string[];
  pollMs: number;
  leaseSec: number;
  shutdownGraceSec: number;
  runnerMemoryMb: number;
  runnerMaxTasks: number;
  runnerSpares: number;
  /** Environment variables task code may see besides the fixed list (taskEnvAllow). */
  taskEnvAllow: readonly string[];
  /** Local cache of DAG bundles by hash (`<dataDir>/bundles`). */
  bundleCacheDir: string;
  /** Decrypts connection passwords, to mask them in task logs and hand them to tasks (unset: only named secrets are masked, and tasks get no password). */
  secretKey?: string;
  taskResultMaxBytes: number;
  taskLogMaxBytes: number;
  /** A callback still running after this long is killed and recorded failed. */
  callbackTimeoutSec: number;
  /** Most task instances queued at once when an ending attempt queues its run's next tasks. */
  queueBatchSize: number;
  /** Called on every turn of the claim loop (liveness). */
  onLoopTurn?: () => void;
  /** Called for each claimed task instance with its queue and how long it waited there (metrics). */
  onClaimed?: (queue: string, waitedSec: number) => void;
  /** True while this worker's database session is on a server that is not the primary (split-brain guard): claim nothing, fence own attempts. */
  unfit?: () => boolean;
}

interface Claimed {
  id: string;
  dag_run_id: string;
  dag_id: string;
  task_id: string;
  try_number: number;
  max_tries: number;
  attempt_id: string;
  run_id: string;
  logical_date: Date;
  data_interval_start: Date;
  data_interval_end: Date;
  params: Record<string, unknown>;
  version_hash: string;
  fileloc: string;
  /** The bundle of the run's DAG version; null for a version stored before bundles existed. */
  bundle_hash: string | null;
  bundle_entry: string | null;
  /** Set when this attempt resumes a deferral. */
  next_event: ResumeEnvelope | null;
  queue: string;
  queue_wait_sec: number;
}

/** Running attempts' new log lines are written this often, for live tails. */
const LOG_FLUSH_MS = 1000;

const HANDED_BACK_STOPPING = 'handed back: the worker stopped before the attempt finished';
const HANDED_BACK_CLAIM_LOST = 'handed back: its worker never received the claim (the answer was lost with the database connection), so it never ran';

/** Queues attempts again with their try not counted, records why on each attempt, and wakes the workers of their queues. */
async function handBack(tx: Tx, attempts: { id: string; log: string }[], error: string): Promise<void> {
  const ids = attempts.map((a) => a.id);
  const back = await tx.query<{ queue: string }>(sql('worker/task_instances_hand_back'), [ids]);
  await tx.query(sql('worker/task_attempts_handed_back'), [ids, attempts.map((a) => a.log), error]);
  for (const q of new Set(back.rows.map((r) => r.queue))) await tx.query(sql('db/notify_workers'), [q]);
}

export class Worker {
  readonly wakeup = new Wakeup();
  private readonly runners: RunnerPool;
  /** Attempts claimed here and not yet ended; aborting `stop` ends one, whatever stage it is in. */
  private readonly active = new Map<string, { claimed: Claimed; log: AttemptLog; stop: AbortController }>();
  private readonly dags = new DagVersionCache();
  private readonly secrets: KnownSecrets;
  private readonly taskSecrets: TaskSecrets;
  private readonly bundles: BundleCache;
  private readonly callbacks: WorkerCallbacks;
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private logTimer: NodeJS.Timeout | null = null;
  private lastRenewalOk = performance.now();
  private readonly host = hostname();

  constructor(private readonly db: Database, private readonly opts: WorkerOptions, private readonly log: Logger) {
    this.runners = new RunnerPool({
      size: opts.concurrency, spares: opts.runnerSpares, memoryMb: opts.runnerMemoryMb, maxTasksPerRunner: opts.runnerMaxTasks,
      watchdogMs: selfFenceAfterMs(opts.leaseSec), envAllow: opts.taskEnvAllow, log,
      answerSecret: (running, m) => {
        // A stopped attempt (fenced, handed back) gets nothing more: its runner is being killed.
        const attempt = running === null ? undefined : this.active.get(running);
        return this.taskSecrets.answer(running !== null && attempt && !attempt.stop.signal.aborted ? { attemptId: running, log: attempt.log } : null, m);
      },
    });
    this.bundles = new BundleCache(opts.bundleCacheDir);
    const box = opts.secretKey ? new SecretBox(opts.secretKey) : null;
    this.secrets = new KnownSecrets(db, box, log);
    this.taskSecrets = new TaskSecrets(db, box, log);
    this.callbacks = new WorkerCallbacks(db, this.runners, {
      componentId: opts.componentId, queues: opts.queues, leaseSec: opts.leaseSec, timeoutSec: opts.callbackTimeoutSec, logMaxBytes: opts.taskLogMaxBytes,
    }, (c) => this.taskFile({ ...c, attempt_id: c.claim_id }), () => this.secrets.masker, log, () => this.wakeup.wake());
  }

  async start(): Promise<void> {
    await this.runners.start();
    this.leaseTimer = setInterval(() => void this.renewLeases(), renewEveryMs(this.opts.leaseSec));
    this.logTimer = setInterval(() => void this.flushLogs(), LOG_FLUSH_MS);
    this.loopDone = this.loop();
    this.log.info({ queues: this.opts.queues, concurrency: this.opts.concurrency }, 'worker started');
  }

  attemptIds(): string[] {
    return [...this.active.keys()];
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.opts.onLoopTurn?.();
      const free = this.opts.concurrency - this.active.size - this.callbacks.size;
      let claimed = 0;
      if (this.opts.unfit?.()) this.selfFence();
      if (free > 0 && !this.opts.unfit?.()) {
        try {
          // Callbacks first: they are short, and an alert should not wait behind a long queue.
          const callbacks = await this.callbacks.claimAndStart(free);
          claimed = callbacks + (free > callbacks ? await this.claimAndStart(free - callbacks) : 0);
        } catch (err) {
          this.log.warn({ err }, 'claim failed; will retry');
        }
      }
      // Claimed a full batch: more may be waiting, look again at once.
      if (claimed > 0 && claimed === free) continue;
      await this.wakeup.wait(this.opts.pollMs);
    }
  }

  private async claimAndStart(limit: number): Promise<number> {
    // A claim whose retries all failed (an outage longer than the retry budget) may still
    // have committed: its attempts are handed back before the next claim, not left to be
    // fenced when their leases run out.
    if (this.mayHoldUnknownClaims) await this.handBackUnknownClaims([...this.active.keys(), ...this.unrecordedEnds]);
    let claimedFrom = 0;
    const rows = await this.db.withRetry(async () => {
      claimedFrom = performance.now();
      try {
        return (await this.db.query<Claimed>(sql('worker/task_instances_claim'), [
          this.opts.queues, limit, this.opts.componentId, this.opts.leaseSec, this.host,
        ])).rows;
      } catch (err) {
        this.mayHoldUnknownClaims = true;
        throw err;
      }
    }, { log: this.log, what: 'claim' });
    // A failed try may have committed with its answer lost: what it claimed is handed back
    // now, not fenced when its lease runs out. Known: running attempts and this claim's.
    if (this.mayHoldUnknownClaims) await this.handBackUnknownClaims([...this.active.keys(), ...this.unrecordedEnds, ...rows.map((r) => r.attempt_id)]);
    if (rows.length === 0) return 0;
    for (const c of rows) this.opts.onClaimed?.(c.queue, c.queue_wait_sec);
    await this.secrets.refresh();
    // An idle worker's renewal clock starts at the claim, which set these leases; its last
    // empty renewal tick may lie before it (or, on start, no tick at all).
    if (this.active.size === 0 && this.callbacks.size === 0) this.lastRenewalOk = claimedFrom;
    // Active from the moment they are claimed, so that their leases are renewed while the
    // DAG versions and upstream results load (retried through an outage).
    for (const c of rows) this.active.set(c.attempt_id, { claimed: c, log: new AttemptLog(this.opts.taskLogMaxBytes, this.secrets.masker), stop: new AbortController() });
    let upstream: Map<string, Record<string, unknown>>;
    try {
      upstream = await this.db.withRetry(async () => {
        await this.dags.load(this.db, rows);
        return this.upstreamResults(rows);
      }, { log: this.log, what: 'loading the claimed tasks' });
    } catch (err) {
      // Claimed but not startable: no longer known here, so the next claim hands them back.
      for (const c of rows) this.active.delete(c.attempt_id);
      this.mayHoldUnknownClaims = true;
      throw err;
    }
    for (const c of rows) {
      const a = this.active.get(c.attempt_id);
      if (a) void this.runAttempt(c, a.log, upstream.get(c.dag_run_id) ?? {}, a.stop.signal);
    }
    return rows.length;
  }

  private taskOf(c: Claimed): SerializedTask | undefined {
    const dag = this.dags.get(c);
    return dag ? findTask(dag, c.task_id) : undefined;
  }

  private async upstreamResults(rows: Claimed[]): Promise<Map<string, Record<string, unknown>>> {
    const runIds: string[] = [];
    const taskIds: string[] = [];
    for (const c of rows) for (const u of this.taskOf(c)?.upstream ?? []) {
      runIds.push(c.dag_run_id);
      taskIds.push(u);
    }
    const out = new Map<string, Record<string, unknown>>();
    if (!runIds.length) return out;
    const res = await this.db.query<{ dag_run_id: string; task_id: string; result: unknown }>(sql('worker/task_instances_results'), [runIds, taskIds]);
    for (const r of res.rows) {
      const m = out.get(r.dag_run_id) ?? {};
      m[r.task_id] = r.result;
      out.set(r.dag_run_id, m);
    }
    return out;
  }

  private async runAttempt(c: Claimed, log: AttemptLog, allUpstream: Record<string, unknown>, stop: AbortSignal): Promise<void> {
    const task = this.taskOf(c);
    let outcome: RunOutcome;
    const resume = c.next_event;
    if (!task) {
      outcome = { ok: false, error: `task "${c.task_id}" is missing from the stored version ${c.version_hash} of DAG "${c.dag_id}"` };
    } else if (resume && !('event' in resume)) {
      // The deferral timed out or its trigger failed: this attempt fails without running.
      outcome = { ok: false, error: 'timeout' in resume ? resume.timeout : resume.error };
    } else {
      const file = await this.taskFile(c);
      if (typeof file !== 'string') outcome = file;
      else outcome = await this.runTask(c, task, log, allUpstream, file, stop);
    }
    if (!this.active.has(c.attempt_id)) return; // handed back during shutdown
    if (outcome.ok && outcome.deferral) {
      await this.defer(c, log, outcome.deferral);
      return;
    }
    log.add(outcome.ok ? 'INFO task succeeded' : `ERROR task failed: ${outcome.error}`);
    const policy = task ?? NO_RETRIES;
    try {
      const ended = await this.db.inTransaction(async (tx) => {
        // Lock the run first (lock order dag_run → task_instance); if no one else holds it,
        // decide its next tasks and queue them here, without waiting for a scheduler turn.
        const run = (await tx.query<LockedRun>(sql('worker/dag_run_lock_one'), [c.dag_run_id])).rows[0];
        const result = await endAttempt(tx, {
          taskInstanceId: c.id, attemptId: c.attempt_id, tryNumber: c.try_number, maxTries: c.max_tries, policy, task,
          outcome: outcome.ok ? { kind: 'success', result: outcome.result } : { kind: 'failure', error: outcome.error },
          log: log.text(), componentId: this.opts.componentId, notify: !run,
        });
        if (result.accepted && run) {
          const decided = await decideLockedRuns(tx, [run], this.dags, this.log);
          const queued = decided.decisions > 0 ? await queueScheduled(tx, { batchSize: this.opts.queueBatchSize, dags: this.dags }) : null;
          // Lost the budget race: a scheduler queues what this decided.
          if (queued?.contended) await tx.query(sql('db/notify_scheduler'), [c.dag_run_id]);
        }
        return result;
      }, { log: this.log, what: 'ending an attempt', maxElapsedMs: this.opts.leaseSec * 1000 * 3 });
      if (!ended.accepted) this.log.warn({ dagId: c.dag_id, taskId: c.task_id, attemptId: c.attempt_id }, 'late write rejected: the attempt had been fenced');
      else this.log.info({ dagId: c.dag_id, taskId: c.task_id, runId: c.dag_run_id, tryNumber: c.try_number, state: ended.state }, `task ${ended.state}`);
    } catch (err) {
      // The lease will expire and a scheduler fences the attempt: nothing is lost.
      this.unrecordedEnds.add(c.attempt_id);
      this.log.error({ err, attemptId: c.attempt_id }, 'could not record the end of an attempt');
    } finally {
      this.active.delete(c.attempt_id);
      this.wakeup.wake();
    }
  }

  /** The task's file in this worker's bundle cache (from the database), or why it cannot be had. */
  private async taskFile(c: Pick<Claimed, 'bundle_hash' | 'bundle_entry' | 'fileloc' | 'dag_id' | 'attempt_id' | 'version_hash'>): Promise<string | RunOutcome> {
    // A version stored before bundles existed still runs from the DAG folder.
    if (!c.bundle_hash || !c.bundle_entry) return join(this.opts.dagsFolder, c.fileloc);
    try {
      return await this.bundles.entryPath(this.db, c.bundle_hash, c.bundle_entry);
    } catch (err) {
      this.log.warn({ err, dagId: c.dag_id, attemptId: c.attempt_id }, 'could not write the DAG bundle into the local cache');
      return { ok: false, error: `could not load the code of DAG "${c.dag_id}" version ${c.version_hash} (bundle ${c.bundle_hash}): ${(err as Error).message}` };
    }
  }

  private async runTask(c: Claimed, task: SerializedTask, log: AttemptLog, allUpstream: Record<string, unknown>, file: string, stop: AbortSignal): Promise<RunOutcome> {
    const resume = c.next_event;
    const upstream: Record<string, unknown> = {};
    for (const u of task.upstream) if (u in allUpstream) upstream[u] = allUpstream[u];
    const req: RunRequest = {
      type: 'run', attemptId: c.attempt_id, file, dagId: c.dag_id, taskId: c.task_id,
      kind: task.kind, command: task.command, ...(task.env ? { env: task.env } : {}), resultMaxBytes: this.opts.taskResultMaxBytes,
      context: {
        dagId: c.dag_id, runId: c.run_id, taskId: c.task_id, logicalDate: c.logical_date.toISOString(),
        dataIntervalStart: c.data_interval_start.toISOString(), dataIntervalEnd: c.data_interval_end.toISOString(),
        tryNumber: c.try_number, maxTries: c.max_tries, attemptId: c.attempt_id, params: c.params, upstream,
        resumed: resume !== null, triggerEvent: resume && 'event' in resume ? resume.event : undefined,
      },
    };
    log.add(`INFO attempt ${c.attempt_id} try ${c.try_number}/${c.max_tries} on ${this.host} (worker ${this.opts.componentId})${resume ? ', resuming from its trigger' : ''}`);
    const outcome = await this.runners.run(req, task.executionTimeoutSec, (line) => log.add(line), stop);
    // A task's error (message, stack) is stored and shown like its log: masked the same way.
    return outcome.ok ? outcome : { ok: false, error: log.masker.mask(outcome.error) };
  }

  private async defer(c: Claimed, log: AttemptLog, deferral: Deferral): Promise<void> {
    const waitsFor = describeTrigger(deferral.trigger);
    log.add(`INFO task deferred: waits for ${waitsFor}${deferral.timeoutSec ? ` (timeout ${deferral.timeoutSec} s)` : ''}; its worker slot is free`);
    try {
      const triggerId = await this.db.inTransaction((tx) => deferAttempt(tx, {
        taskInstanceId: c.id, attemptId: c.attempt_id, fileloc: c.fileloc, deferral, log: log.text(), componentId: this.opts.componentId,
      }), { log: this.log, what: 'deferring an attempt', maxElapsedMs: this.opts.leaseSec * 1000 * 3 });
      if (triggerId === null) this.log.warn({ dagId: c.dag_id, taskId: c.task_id, attemptId: c.attempt_id }, 'late deferral rejected: the attempt had been fenced');
      else this.log.info({ dagId: c.dag_id, taskId: c.task_id, runId: c.dag_run_id, triggerId }, `task deferred on ${waitsFor}`);
    } catch (err) {
      this.unrecordedEnds.add(c.attempt_id);
      this.log.error({ err, attemptId: c.attempt_id }, 'could not record a deferral');
    } finally {
      this.active.delete(c.attempt_id);
      this.wakeup.wake();
    }
  }

  private renewing = false;
  /** A claim failed, or claimed attempts could not be started, since the database last told which running attempts are this worker's. */
  private mayHoldUnknownClaims = false;
  /** Attempts that ran here but whose end could not be recorded: never "unknown claims"; their leases expire. */
  private readonly unrecordedEnds = new Set<string>();

  private async flushLogs(): Promise<void> {
    const ids: string[] = [];
    const chunks: string[] = [];
    for (const [id, a] of this.active) {
      const chunk = a.log.takeUnflushed();
      if (chunk) {
        ids.push(id);
        chunks.push(chunk);
      }
    }
    if (!ids.length) return;
    // A lost chunk is not lost for good: the whole log is stored when the attempt ends.
    await this.db.query(sql('worker/task_attempts_append_log'), [ids, chunks]).catch((err) => this.log.warn({ err }, 'log flush failed'));
  }

  private async renewLeases(): Promise<void> {
    const silentMs = performance.now() - this.lastRenewalOk;
    if (mustSelfFence({ silentMs, leaseSec: this.opts.leaseSec, unfit: this.opts.unfit?.() ?? false })) this.selfFence();
    if (this.renewing) return; // the previous renewal still hangs; the check above still runs
    const ids = [...this.active.keys()];
    if (ids.length === 0 && this.callbacks.size === 0) {
      this.lastRenewalOk = performance.now();
      return;
    }
    this.renewing = true;
    // The database set the new expiry at some moment after this one: counting from here never overstates the lease.
    const startedAt = performance.now();
    let giveUp: NodeJS.Timeout | undefined;
    try {
      const renewal = (async () => {
        const res = ids.length ? await this.db.query<{ attempt_id: string }>(sql('worker/task_instances_renew_leases'), [ids, this.opts.leaseSec]) : { rows: [] };
        return { res, callbacksAlive: await this.callbacks.renew() };
      })();
      renewal.catch(() => undefined); // given up below, it may still fail later: nobody waits for it then
      const timeoutMs = renewalTimeoutMs(this.opts.leaseSec);
      const { res, callbacksAlive } = await Promise.race([renewal, new Promise<never>((_, reject) => {
        giveUp = setTimeout(() => reject(new Error(`lease renewal took longer than ${timeoutMs} ms; the next one tries again`)), timeoutMs);
      })]);
      this.lastRenewalOk = startedAt;
      const alive = new Set(res.rows.map((r) => r.attempt_id));
      this.runners.leaseRenewed([...alive, ...callbacksAlive], selfFenceAfterMs(this.opts.leaseSec) - (performance.now() - startedAt));
      for (const id of ids) {
        if (!alive.has(id) && this.active.has(id)) {
          this.stopAttempt(id, 'attempt was fenced by a scheduler; killing it', 'the attempt was fenced (its lease had expired) and was stopped by its worker');
        }
      }
    } catch (err) {
      this.log.warn({ err, silentMs: Math.round(performance.now() - this.lastRenewalOk) }, 'lease renewal failed');
    } finally {
      clearTimeout(giveUp);
      this.renewing = false;
    }
  }

  private async handBackUnknownClaims(known: string[]): Promise<void> {
    try {
      const back = await this.db.inTransaction(async (tx) => {
        const unknown = (await tx.query<{ attempt_id: string }>(sql('worker/task_instances_unknown_to_worker'), [this.opts.componentId, known])).rows;
        if (unknown.length) await handBack(tx, unknown.map((r) => ({ id: r.attempt_id, log: '' })), HANDED_BACK_CLAIM_LOST);
        return unknown.map((r) => r.attempt_id);
      }, { log: this.log, what: 'handing back claims whose answer was lost' });
      this.mayHoldUnknownClaims = false;
      if (back.length) this.log.warn({ attemptIds: back }, 'claims whose answer was lost were handed back');
    } catch (err) {
      this.log.warn({ err }, 'could not hand back claims whose answer was lost; trying again before the next claim');
    }
  }

  /** Cannot reach the database for most of a lease: stop every attempt before it may run twice. */
  private selfFence(): void {
    this.callbacks.stopAll('self-fencing: leases could not be renewed; killing the callback');
    for (const id of this.active.keys()) {
      this.stopAttempt(id, 'self-fencing: leases could not be renewed; killing the attempt', 'self-fenced: the worker could not renew the lease with the database, so it stopped the attempt before another could start');
    }
  }

  /** Ends an attempt wherever it is: fetching its bundle, waiting for a runner, or running. Logged once. */
  private stopAttempt(id: string, logLine: string, reason: string): void {
    const stop = this.active.get(id)?.stop;
    if (!stop || stop.signal.aborted) return;
    this.log.warn({ attemptId: id }, logLine);
    stop.abort(reason);
  }

  /** SIGTERM: stop claiming, let attempts finish within the grace period, hand back the rest. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.wake();
    await this.loopDone;
    const deadline = Date.now() + this.opts.shutdownGraceSec * 1000;
    while (this.active.size + this.callbacks.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await this.callbacks.handBack();
    if (this.active.size > 0) {
      const left = [...this.active.entries()];
      this.active.clear();
      for (const [, a] of left) a.stop.abort('handed back: the worker is stopping');
      try {
        await this.db.inTransaction((tx) => handBack(tx, left.map(([id, a]) => ({ id, log: a.log.text() })), HANDED_BACK_STOPPING));
        this.log.info({ attempts: left.length }, 'attempts handed back');
      } catch (err) {
        this.log.error({ err }, 'hand-back failed; the leases will expire and the attempts be retried');
      }
    }
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.logTimer) clearInterval(this.logTimer);
    await this.runners.close();
  }
}
