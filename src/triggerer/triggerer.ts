// The triggerer role: waits on behalf of deferred tasks. Each copy takes waiting triggers
// up to its capacity, holds each by a lease it renews, checks them on their own intervals,
// and fires one by moving its task instance back to 'scheduled' in a transaction that is
// conditional on the trigger's holder and the task still waiting on it. Copies that die
// lose their triggers to the others within about a second (session lock gone), copies that
// freeze lose them when the lease expires; if a frozen copy wakes and fires anyway, the
// conditional update makes its firing a no-op, so an event resumes its task once.
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { COMPONENT_LOCK_CLASS } from '../ha/session.js';
import type { Logger } from '../log.js';
import { Wakeup } from '../loop.js';
import { pollTrigger } from '../deferral/triggers/poll.js';
import { describeTrigger, parseTriggerSpec, type ResumeEnvelope, type TriggerSpec } from '../deferral/triggers/spec.js';
import { CustomTriggerHost } from './custom-host.js';

export interface TriggererOptions {
  componentId: string;
  dagsFolder: string;
  capacity: number;
  leaseSec: number;
  lostAfterSec: number;
  pollMs: number;
  /** Called on every turn of the loop (liveness). */
  onLoopTurn?: () => void;
  /** True while this process's session is on a server that is not the primary: take and fire nothing. */
  unfit?: () => boolean;
  onFired?: (kind: string, outcome: FireOutcome, waitedSec: number) => void;
  /** Environment variables custom triggers may see besides the fixed list (taskEnvAllow). */
  taskEnvAllow?: readonly string[];
}

interface HeldRow {
  id: string;
  task_instance_id: string;
  dag_id: string;
  fileloc: string;
  spec: unknown;
  timeout_at: Date | null;
  created_at: Date;
  previous_holder: string | null;
}

interface Held {
  row: HeldRow;
  spec: TriggerSpec | null;
  specError: string | null;
  nextCheckAt: number;
  checking: boolean;
  abort: AbortController;
}

/** resumed: the task was scheduled again; lost: another holder or outcome won; cancelled: the task no longer waited. */
export type FireOutcome = 'resumed' | 'lost' | 'cancelled';

/** Most triggers taken in one statement. */
const ACQUIRE_BATCH = 200;
/** Triggers whose task stopped waiting are looked for this often. */
const ORPHAN_SWEEP_MS = 10_000;

export class Triggerer {
  readonly wakeup = new Wakeup();
  private readonly held = new Map<string, Held>();
  private readonly custom: CustomTriggerHost;
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private lastAcquireAt = 0;
  private lastSweepAt = 0;
  private renewing = false;

  constructor(private readonly db: Database, private readonly opts: TriggererOptions, private readonly log: Logger) {
    this.custom = new CustomTriggerHost(opts.dagsFolder, opts.taskEnvAllow ?? []);
  }

  get heldCount(): number {
    return this.held.size;
  }

  details(): Record<string, unknown> {
    return { triggersHeld: this.held.size, triggerCapacity: this.opts.capacity };
  }

  start(): void {
    this.renewTimer = setInterval(() => void this.renew(), (this.opts.leaseSec * 1000) / 3);
    this.loopDone = this.loop();
    this.log.info({ capacity: this.opts.capacity }, 'triggerer started');
  }

  /** An external event was posted: check the external triggers now. */
  externalEventPosted(key: string): void {
    for (const h of this.held.values()) if (h.spec?.kind === 'external' && h.spec.key === key) h.nextCheckAt = 0;
    this.wakeup.wake();
  }

  /** A task deferred: look for new triggers now. */
  deferralAnnounced(): void {
    this.lastAcquireAt = 0;
    this.wakeup.wake();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.opts.onLoopTurn?.();
      if (this.opts.unfit?.()) {
        await this.wakeup.wait(this.opts.pollMs);
        continue;
      }
      const now = Date.now();
      try {
        if (now - this.lastAcquireAt >= this.opts.pollMs && this.held.size < this.opts.capacity) {
          this.lastAcquireAt = now;
          await this.acquire();
        }
        if (now - this.lastSweepAt >= ORPHAN_SWEEP_MS) {
          this.lastSweepAt = now;
          await this.db.query(sql('triggerer/triggers_cancel_orphaned'));
        }
      } catch (err) {
        this.log.warn({ err }, 'triggerer turn failed; will retry');
      }
      let nextDue = Date.now() + this.opts.pollMs;
      for (const h of this.held.values()) {
        if (h.checking) continue;
        if (h.nextCheckAt <= Date.now()) void this.check(h);
        else nextDue = Math.min(nextDue, h.nextCheckAt);
      }
      await this.wakeup.wait(Math.max(5, nextDue - Date.now()));
    }
  }

  private async acquire(): Promise<void> {
    const limit = Math.min(ACQUIRE_BATCH, this.opts.capacity - this.held.size);
    let takenOver: HeldRow[] = [];
    const rows = await this.db.inTransaction(async (tx) => {
      const taken = (await tx.query<HeldRow>(sql('triggerer/triggers_acquire'), [
        this.opts.componentId, limit, this.opts.leaseSec, this.opts.lostAfterSec, COMPONENT_LOCK_CLASS,
      ])).rows;
      takenOver = taken.filter((r) => r.previous_holder && r.previous_holder !== this.opts.componentId);
      // Recorded with the takeover itself, so the history never shows one without the other.
      if (takenOver.length) {
        await tx.query(sql('ha/ha_event_insert'), ['triggers_taken_over', this.opts.componentId, {
          triggers: takenOver.map((r) => r.id), from: [...new Set(takenOver.map((r) => r.previous_holder))],
        }]);
      }
      return taken;
    }, { log: this.log, what: 'taking triggers' });
    for (const row of rows) {
      let spec: TriggerSpec | null = null;
      let specError: string | null = null;
      try {
        spec = parseTriggerSpec(row.spec);
      } catch (err) {
        specError = (err as Error).message;
      }
      this.held.get(row.id)?.abort.abort();
      this.held.set(row.id, { row, spec, specError, nextCheckAt: 0, checking: false, abort: new AbortController() });
    }
    if (takenOver.length) this.log.warn({ triggers: takenOver.length, from: [...new Set(takenOver.map((r) => r.previous_holder))] }, 'took over triggers of another triggerer');
    if (rows.length === limit) this.lastAcquireAt = 0; // more may be waiting
  }

  private async check(h: Held): Promise<void> {
    h.checking = true;
    try {
      const outcome = await this.evaluate(h);
      if (!this.held.has(h.row.id) || h.abort.signal.aborted) return; // dropped meanwhile
      if (outcome) await this.fire(h, outcome.state, outcome.envelope);
    } catch (err) {
      this.log.warn({ err, triggerId: h.row.id }, 'trigger check failed; will retry');
      h.nextCheckAt = Date.now() + this.opts.pollMs;
    } finally {
      h.checking = false;
      this.wakeup.wake();
    }
  }

  /** One check: the outcome to fire with, or null (and the next check's time). */
  private async evaluate(h: Held): Promise<{ state: 'fired' | 'timed_out' | 'failed'; envelope: ResumeEnvelope } | null> {
    if (!h.spec) return { state: 'failed', envelope: { error: h.specError ?? 'invalid trigger' } };
    const timeoutAt = h.row.timeout_at?.getTime() ?? Infinity;
    if (Date.now() >= timeoutAt) {
      const waited = Math.round((timeoutAt - h.row.created_at.getTime()) / 1000);
      return { state: 'timed_out', envelope: { timeout: `the deferral timed out after ${waited} s waiting for ${describeTrigger(h.spec)}` } };
    }
    const spec = h.spec;
    const res = await pollTrigger(spec, {
      signal: h.abort.signal, db: this.db, triggerId: h.row.id,
      pollCustom: (s) => this.custom.poll(s, h.row.fileloc),
    });
    if (res.fired) return { state: 'event' in res.envelope ? 'fired' : 'failed', envelope: res.envelope };
    h.nextCheckAt = Math.min(Date.now() + res.nextInMs, timeoutAt);
    return null;
  }

  private async fire(h: Held, state: 'fired' | 'timed_out' | 'failed', envelope: ResumeEnvelope): Promise<void> {
    const outcome = await this.db.inTransaction(async (tx): Promise<FireOutcome> => {
      const trig = (await tx.query<{ task_instance_id: string; attempt_id: string }>(sql('triggerer/trigger_lock_held'), [h.row.id, this.opts.componentId])).rows[0];
      if (!trig) return 'lost';
      const resumed = (await tx.query<{ dag_run_id: string }>(sql('triggerer/task_instance_resume'), [trig.task_instance_id, trig.attempt_id, JSON.stringify(envelope)])).rows[0];
      await tx.query(sql('triggerer/trigger_finish'), [h.row.id, resumed ? state : 'cancelled', JSON.stringify(envelope), this.opts.componentId]);
      if (!resumed) return 'cancelled';
      await tx.query(sql('db/notify_scheduler'), [resumed.dag_run_id]);
      return 'resumed';
    }, { log: this.log, what: 'firing a trigger', maxElapsedMs: this.opts.leaseSec * 1000 });
    this.drop(h.row.id);
    const waitedSec = (Date.now() - h.row.created_at.getTime()) / 1000;
    this.opts.onFired?.(h.spec?.kind ?? 'invalid', outcome, waitedSec);
    const fields = { triggerId: h.row.id, dagId: h.row.dag_id, taskInstanceId: h.row.task_instance_id, state, outcome };
    if (outcome === 'resumed') this.log.info(fields, `trigger ${state}: ${h.spec ? describeTrigger(h.spec) : 'invalid trigger'}`);
    else this.log.warn(fields, `trigger ${state} but not applied (${outcome})`);
  }

  private drop(id: string): void {
    const h = this.held.get(id);
    if (!h) return;
    h.abort.abort();
    this.held.delete(id);
    if (this.held.size < this.opts.capacity) this.lastAcquireAt = Math.min(this.lastAcquireAt, Date.now() - this.opts.pollMs / 2);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    const ids = [...this.held.keys()];
    try {
      const kept = new Set((await this.db.query<{ id: string }>(sql('triggerer/triggers_renew'), [ids, this.opts.componentId, this.opts.leaseSec])).rows.map((r) => r.id));
      for (const id of ids) {
        if (!kept.has(id) && this.held.has(id)) {
          this.log.info({ triggerId: id }, 'trigger no longer held here (fired, cancelled or taken over); dropped');
          this.drop(id);
        }
      }
    } catch (err) {
      this.log.warn({ err }, 'trigger lease renewal failed');
    } finally {
      this.renewing = false;
    }
  }

  /** SIGTERM: stop checking and hand the triggers back so another copy takes them at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.wake();
    await this.loopDone;
    if (this.renewTimer) clearInterval(this.renewTimer);
    for (const h of this.held.values()) h.abort.abort();
    this.held.clear();
    await this.db.query(sql('triggerer/triggers_release'), [this.opts.componentId])
      .catch((err) => this.log.warn({ err }, 'could not release triggers; their leases will expire'));
    this.custom.close();
  }
}
