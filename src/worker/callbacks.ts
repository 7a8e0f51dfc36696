// A worker's callbacks (onFailure, onSuccess, onRetry, onDeadlineMissed): claimed from the
// callback table like task instances (SKIP LOCKED, a claim id as fencing token, a lease the
// worker renews), run in the same warm runners as task code, ended with a write
// conditional on the claim id. A worker that dies mid-callback leaves its lease to expire;
// a scheduler puts the row back and another worker runs it again: execution is at least
// once, the recorded end at most once (docs/decisions/0008-callbacks-recorded-once.md).
import type { CallbackKind } from '../core/callbacks.js';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../log.js';
import type { RecordedContext } from '../runs/callbacks.js';
import type { SecretMasker } from '../secrets/masker.js';
import { AttemptLog } from './attempt-log.js';
import type { RunnerPool, RunOutcome } from './runner-pool.js';
import type { CallbackRequest } from './runner-protocol.js';

export interface ClaimedCallback {
  id: string;
  kind: CallbackKind;
  dag_run_id: string;
  dag_id: string;
  /** '' for a DAG-level callback. */
  task_id: string;
  seq: number;
  context: RecordedContext;
  claim_id: string;
  claims: number;
  run_id: string;
  logical_date: Date;
  params: Record<string, unknown>;
  version_hash: string;
  fileloc: string;
  bundle_hash: string | null;
  bundle_entry: string | null;
}

export interface CallbackOptions {
  componentId: string;
  queues: string[];
  leaseSec: number;
  timeoutSec: number;
  logMaxBytes: number;
}

const HANDED_BACK = 'the worker stopped before the callback finished';

export class WorkerCallbacks {
  /** Callbacks claimed here and not yet ended, by claim id. */
  private readonly active = new Map<string, { claimed: ClaimedCallback; stop: AbortController }>();

  constructor(
    private readonly db: Database,
    private readonly runners: RunnerPool,
    private readonly opts: CallbackOptions,
    /** The DAG file of the run's version in the bundle cache, or why it cannot be had. */
    private readonly fileOf: (c: ClaimedCallback) => Promise<string | RunOutcome>,
    private readonly masker: () => SecretMasker,
    private readonly log: Logger,
    private readonly onEnded: () => void,
  ) {}

  get size(): number {
    return this.active.size;
  }

  claimIds(): string[] {
    return [...this.active.keys()];
  }

  async claimAndStart(limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const rows = (await this.db.query<ClaimedCallback>(sql('callbacks/callbacks_claim'), [this.opts.queues, limit, this.opts.componentId, this.opts.leaseSec])).rows;
    for (const c of rows) {
      const stop = new AbortController();
      this.active.set(c.claim_id, { claimed: c, stop });
      void this.run(c, stop.signal);
    }
    return rows.length;
  }

  private async run(c: ClaimedCallback, stop: AbortSignal): Promise<void> {
    const log = new AttemptLog(this.opts.logMaxBytes, this.masker());
    log.add(`INFO callback ${c.kind} ${c.id} (claim ${c.claim_id}, claim ${c.claims}) for run ${c.dag_run_id}${c.task_id ? ` task ${c.task_id}` : ''} on worker ${this.opts.componentId}`);
    const file = await this.fileOf(c);
    let outcome: RunOutcome;
    if (typeof file !== 'string') outcome = file;
    else {
      const ctx = c.context;
      const req: CallbackRequest = {
        type: 'callback', attemptId: c.claim_id, file, dagId: c.dag_id, taskId: c.task_id || null, kind: c.kind,
        context: {
          callbackId: c.id, dagId: c.dag_id, runId: c.run_id, state: ctx.state, logicalDate: c.logical_date.toISOString(), params: c.params,
          ...(c.task_id ? { taskId: c.task_id, tryNumber: c.seq } : {}),
          ...(ctx.error ? { error: ctx.error } : {}), ...(ctx.reason ? { reason: ctx.reason } : {}), ...(ctx.deadline ? { deadline: ctx.deadline } : {}),
        },
      };
      outcome = await this.runners.run(req, this.opts.timeoutSec, (line) => log.add(line), stop);
    }
    if (!this.active.has(c.claim_id)) return; // handed back during shutdown
    const error = outcome.ok ? null : log.masker.mask(outcome.error);
    log.add(outcome.ok ? 'INFO callback succeeded' : `ERROR callback failed: ${error}`);
    try {
      const accepted = await this.db.inTransaction(async (tx) => {
        const ended = await tx.query(sql('callbacks/callback_end'), [c.id, c.claim_id, outcome.ok ? 'success' : 'failed', error, log.text()]);
        if (ended.rows.length === 0) {
          await tx.query(sql('ha/ha_event_insert'), ['late_write_rejected', this.opts.componentId, { callbackId: c.id, claimId: c.claim_id, outcome: outcome.ok ? 'success' : 'failure' }]);
        }
        return ended.rows.length > 0;
      }, { log: this.log, what: 'ending a callback', maxElapsedMs: this.opts.leaseSec * 1000 * 3 });
      if (!accepted) this.log.warn({ callbackId: c.id, claimId: c.claim_id }, 'late callback end rejected: its claim had been taken back');
      else this.log.info({ callbackId: c.id, kind: c.kind, dagId: c.dag_id, runId: c.dag_run_id, taskId: c.task_id || undefined, ok: outcome.ok }, `callback ${c.kind} ${outcome.ok ? 'succeeded' : 'failed'}`);
    } catch (err) {
      // Its lease expires and a scheduler puts it back: it runs again elsewhere.
      this.log.error({ err, callbackId: c.id }, 'could not record the end of a callback');
    } finally {
      this.active.delete(c.claim_id);
      this.onEnded();
    }
  }

  /** Renews the leases; returns the claims still held, and stops those taken back. */
  async renew(): Promise<Set<string>> {
    const ids = this.claimIds();
    if (ids.length === 0) return new Set();
    const alive = new Set((await this.db.query<{ claim_id: string }>(sql('callbacks/callbacks_renew_leases'), [ids, this.opts.leaseSec])).rows.map((r) => r.claim_id));
    for (const id of ids) if (!alive.has(id)) this.stop(id, 'the callback was taken back (its lease had expired) and was stopped by its worker');
    return alive;
  }

  stopAll(reason: string): void {
    for (const id of this.active.keys()) this.stop(id, reason);
  }

  private stop(id: string, reason: string): void {
    const stop = this.active.get(id)?.stop;
    if (!stop || stop.signal.aborted) return;
    this.log.warn({ claimId: id }, reason);
    stop.abort(reason);
  }

  /** Shutdown past the grace period: the unfinished callbacks go back to pending, their claim not counted. */
  async handBack(): Promise<void> {
    const left = this.claimIds();
    if (!left.length) return;
    for (const [, a] of this.active) a.stop.abort(HANDED_BACK);
    this.active.clear();
    try {
      await this.db.inTransaction(async (tx) => {
        const back = await tx.query<{ queue: string }>(sql('callbacks/callbacks_hand_back'), [left]);
        for (const q of new Set(back.rows.map((r) => r.queue))) await tx.query(sql('db/notify_workers'), [q]);
      }, { log: this.log, what: 'handing back callbacks' });
      this.log.info({ callbacks: left.length }, 'callbacks handed back');
    } catch (err) {
      this.log.error({ err }, 'callback hand-back failed; their leases will expire and they will run again elsewhere');
    }
  }
}
