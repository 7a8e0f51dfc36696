// The operator's lifecycle actions on a run (CLI `keel tasks clear|mark`, `keel runs
// mark|cancel`, the API and the UI's dialogs): clear task instances so they run again, mark
// them success or failed, cancel a run. Each is one transaction that locks the run, then its
// task instances (lock order dag_run → task_instance), plans with src/core/lifecycle-plan.ts
// and applies the plan with updates conditional on each instance's state and attempt id as
// planned (or as the operator confirmed them): a row that moved in between makes the whole
// action change nothing. Every change is written to lifecycle_audit in the same transaction.
// Fencing: a mark or cancel of a running attempt keeps its attempt id on the row, so the
// attempt's later writes are rejected and its worker stops it; a clear never starts an
// attempt while an earlier one may still run (src/fencing/INVARIANTS.md, rule 1).
import { confirmedPlanProblem, planClear, planMark, PlanError, selectTasks, type MarkState, type SeenInstance, type SelectOptions } from '../core/lifecycle-plan.js';
import type { SerializedDag, TaskState } from '../core/types.js';
import type { Database, Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { UsageError } from '../errors.js';
import { COMPONENT_LOCK_CLASS } from '../ha/session.js';

export class RunNotFoundError extends UsageError {}
/** The rows moved since they were seen (or confirmed), or the action does not fit the run now: nothing changed. */
export class LifecycleConflictError extends UsageError {}

export interface Actor {
  /** Who acts, as the audit log records it: a user name, or `cli:<os user>`. */
  actor: string;
  /** How a worker is judged gone (as the orphan sweep does). */
  workerLostAfterSec: number;
  dbOutageGraceSec: number;
}

/** A task instance in an answer: what it was and what it becomes. */
export interface PlannedChange {
  taskId: string;
  state: TaskState;
  attemptId: string | null;
  tryNumber: number;
  to: TaskState;
}

export interface LifecycleResult {
  runId: string;
  dagId: string;
  dryRun: boolean;
  runState: { from: string; to: string };
  tasks: PlannedChange[];
}

export interface Expected { taskId: string; state: string; attemptId: string | null }

interface Locked {
  run: { id: string; dag_id: string; run_id: string; state: string; serialized: SerializedDag };
  seen: (SeenInstance & { id: string })[];
}

async function lockRun(tx: Tx, runId: string, who: Actor): Promise<Locked> {
  const run = (await tx.query<Locked['run']>(sql('lifecycle/dag_run_lock'), [runId])).rows[0];
  if (!run) throw new RunNotFoundError(`no DAG run with id ${runId}; see \`keel runs list\``);
  const rows = (await tx.query<{ id: string; task_id: string; state: TaskState; attempt_id: string | null; try_number: number; stopping: boolean }>(
    sql('lifecycle/task_instances_seen'), [runId, COMPONENT_LOCK_CLASS, who.workerLostAfterSec, who.dbOutageGraceSec],
  )).rows;
  return { run, seen: rows.map((r) => ({ id: r.id, taskId: r.task_id, state: r.state, attemptId: r.attempt_id, tryNumber: r.try_number, stopping: r.stopping })) };
}

function select(locked: Locked, taskIds: string[] | null, opts: SelectOptions): string[] {
  try {
    return selectTasks(locked.run.serialized.tasks, taskIds && taskIds.length ? taskIds : null, opts);
  } catch (err) {
    if (err instanceof PlanError) throw new UsageError(`run ${locked.run.id} of DAG "${locked.run.dag_id}": ${err.message}`);
    throw err;
  }
}

function checkConfirmed(plan: readonly SeenInstance[], expected: Expected[] | undefined): void {
  if (!expected) return;
  const problem = confirmedPlanProblem(plan, expected);
  if (problem) throw new LifecycleConflictError(problem);
}

async function audit(tx: Tx, who: Actor, action: string, run: Locked['run'], rows: { taskId: string | null; from: string; to: string; tryNumber: number | null; attemptId: string | null }[], details: object): Promise<void> {
  if (!rows.length) return;
  await tx.query(sql('lifecycle/audit_insert'), [
    who.actor, action, run.dag_id, run.id,
    rows.map((r) => r.taskId), rows.map((r) => r.from), rows.map((r) => r.to), rows.map((r) => r.tryNumber), rows.map((r) => r.attemptId), details,
  ]);
}

/** The compare-and-set apply of a plan: every listed row must still match, or the transaction rolls back. */
function expectAll(plan: readonly SeenInstance[], done: { task_id: string }[]): void {
  if (done.length === plan.length) return;
  const moved = plan.filter((p) => !done.some((d) => d.task_id === p.taskId)).map((p) => p.taskId);
  throw new LifecycleConflictError(`task instances changed while the action ran: ${moved.join(', ')}; nothing was changed, try again`);
}

async function clearConditional(tx: Tx, plan: (SeenInstance & { id: string })[]): Promise<void> {
  const done = (await tx.query<{ task_id: string }>(sql('lifecycle/task_instances_clear_seen'), [plan.map((p) => p.id), plan.map((p) => p.state), plan.map((p) => p.attemptId)])).rows;
  expectAll(plan, done);
}

async function markConditional(tx: Tx, plan: (SeenInstance & { id: string })[], to: MarkState, reason: string): Promise<void> {
  const attempted = plan.filter((p) => p.attemptId !== null);
  const never = plan.filter((p) => p.attemptId === null);
  const done = [
    ...(attempted.length ? (await tx.query<{ task_id: string }>(sql('lifecycle/task_instances_mark_seen'), [attempted.map((p) => p.attemptId), attempted.map((p) => p.id), attempted.map((p) => p.state), to, reason])).rows : []),
    ...(never.length ? (await tx.query<{ task_id: string }>(sql('lifecycle/task_instances_mark_unattempted'), [never.map((p) => p.id), never.map((p) => p.state), to, reason])).rows : []),
  ];
  expectAll(plan, done);
}

const toChange = (p: SeenInstance, to: TaskState): PlannedChange => ({ taskId: p.taskId, state: p.state, attemptId: p.attemptId, tryNumber: p.tryNumber, to });

export interface ClearRequest extends SelectOptions {
  /** Task ids to clear; null or empty: the whole run. */
  taskIds: string[] | null;
  onlyFailed?: boolean;
  dryRun?: boolean;
  /** The task instances the operator confirmed (from a dry run): the clear applies only if the plan is still exactly this. */
  expected?: Expected[];
}

/** Clears task instances of a run so that they run again, and puts the run back to running. */
export async function clearTasks(db: Database, runId: string, req: ClearRequest, who: Actor): Promise<LifecycleResult> {
  // Run again after a lost COMMIT, it could clear a task that ran since (ADR 0005).
  return db.inTransaction((tx) => clearTasksIn(tx, runId, req, who), { idempotent: false, what: 'the clear' });
}

/**
 * The clear inside the caller's transaction (a scheduler driving a backfill). It throws a
 * RunNotFoundError or LifecycleConflictError before it writes anything: the task instances
 * are locked when planned, so the conditional apply cannot miss a row.
 */
export async function clearTasksIn(tx: Tx, runId: string, req: ClearRequest, who: Actor, details: object = {}): Promise<LifecycleResult> {
  const locked = await lockRun(tx, runId, who);
  const selected = select(locked, req.taskIds, req);
  let plan;
  try {
    plan = planClear(selected, locked.seen, { onlyFailed: req.onlyFailed }).clear as (SeenInstance & { id: string })[];
  } catch (err) {
    if (err instanceof PlanError) throw new LifecycleConflictError(err.message);
    throw err;
  }
  checkConfirmed(plan, req.expected);
  const reopen = plan.length > 0 && (locked.run.state === 'success' || locked.run.state === 'failed');
  const result: LifecycleResult = {
    runId: locked.run.id, dagId: locked.run.dag_id, dryRun: Boolean(req.dryRun),
    runState: { from: locked.run.state, to: reopen ? 'running' : locked.run.state }, tasks: plan.map((p) => toChange(p, 'pending')),
  };
  if (req.dryRun || !plan.length) return result;
  // Attempts an operator stopped whose worker is gone: nothing runs them any more.
  const orphaned = locked.seen.filter((s) => plan.includes(s) && s.attemptId).map((s) => s.attemptId!);
  if (orphaned.length) await tx.query(sql('lifecycle/task_attempts_close_orphaned'), [orphaned]);
  await clearConditional(tx, plan);
  if (reopen) await tx.query(sql('lifecycle/dag_run_reopen'), [runId]);
  await audit(tx, who, 'clear', locked.run, [
    ...(reopen ? [{ taskId: null, from: locked.run.state, to: 'running', tryNumber: null, attemptId: null }] : []),
    ...plan.map((p) => ({ taskId: p.taskId, from: p.state, to: 'pending', tryNumber: p.tryNumber, attemptId: p.attemptId })),
  ], { taskIds: req.taskIds, downstream: Boolean(req.downstream), upstream: Boolean(req.upstream), recursive: Boolean(req.recursive), onlyFailed: Boolean(req.onlyFailed), ...details });
  await tx.query(sql('db/notify_scheduler'), [runId]);
  return result;
}

export interface MarkRequest extends SelectOptions {
  state: MarkState;
  /** Task ids to mark; null: the run itself (every unfinished task instance, or all for success). */
  taskIds: string[] | null;
  dryRun?: boolean;
  expected?: Expected[];
}

/**
 * Marks task instances success or failed (a running attempt is stopped), or, with no task
 * ids, the whole run: marking a run success marks every task instance that is not success;
 * failed, its unfinished ones. Marking tasks leaves the run to the scheduler's decision;
 * marking the run ends it in that state.
 */
export async function markTasks(db: Database, runId: string, req: MarkRequest, who: Actor): Promise<LifecycleResult> {
  return stopAndMark(db, runId, req, who, `mark_${req.state}`, `marked ${req.state} by ${who.actor}`);
}

/** Cancels a queued or running run: its unfinished task instances fail (running attempts are stopped) and the run fails. */
export async function cancelRun(db: Database, runId: string, who: Actor, dryRun = false): Promise<LifecycleResult> {
  return stopAndMark(db, runId, { state: 'failed', taskIds: null, dryRun }, who, 'cancel', `cancelled by ${who.actor}`);
}

async function stopAndMark(db: Database, runId: string, req: MarkRequest, who: Actor, action: string, reason: string): Promise<LifecycleResult> {
  return db.inTransaction(async (tx) => (await stopAndMarkIn(tx, runId, req, who, action, reason)).result, { idempotent: false, what: `the ${action.replace('_', ' ')}` });
}

/**
 * Fails a running run that outlived its DAG's dagRunTimeoutSec, as a cancel does (its
 * running attempts are stopped), in the caller's transaction, audited as `timeout`.
 * Returns the run's end number (the key of its end's callback), or null if it had ended.
 */
export async function failTimedOutRun(tx: Tx, runId: string, who: Actor, reason: string): Promise<number | null> {
  return (await stopAndMarkIn(tx, runId, { state: 'failed', taskIds: null }, who, 'timeout', reason)).endCount;
}

async function stopAndMarkIn(tx: Tx, runId: string, req: MarkRequest, who: Actor, action: string, reason: string): Promise<{ result: LifecycleResult; endCount: number | null }> {
  const locked = await lockRun(tx, runId, who);
  const wholeRun = !req.taskIds || req.taskIds.length === 0;
  if (action === 'cancel' && locked.run.state !== 'queued' && locked.run.state !== 'running') {
    throw new LifecycleConflictError(`run ${runId} is already ${locked.run.state}; only a queued or running run can be cancelled`);
  }
  const selected = select(locked, req.taskIds, req);
  const plan = planMark(selected, locked.seen, req.state, { unfinishedOnly: wholeRun && req.state === 'failed' }) as (SeenInstance & { id: string })[];
  checkConfirmed(plan, req.expected);
  const runTo = wholeRun ? req.state : locked.run.state === 'success' || locked.run.state === 'failed' ? 'running' : locked.run.state;
  const result: LifecycleResult = {
    runId: locked.run.id, dagId: locked.run.dag_id, dryRun: Boolean(req.dryRun),
    runState: { from: locked.run.state, to: runTo }, tasks: plan.map((p) => toChange(p, req.state)),
  };
  if (req.dryRun) return { result, endCount: null };
  if (!plan.length && runTo === locked.run.state) return { result, endCount: null };
  await markConditional(tx, plan, req.state, reason);
  const live = plan.filter((p) => p.state === 'running' && p.attemptId).map((p) => p.attemptId!);
  if (live.length) await tx.query(sql('lifecycle/task_attempts_stop'), [live, reason]);
  let endCount: number | null = null;
  if (wholeRun) endCount = (await tx.query<{ end_count: number }>(sql('lifecycle/dag_run_mark'), [runId, req.state])).rows[0]?.end_count ?? null;
  else if (runTo === 'running' && locked.run.state !== 'running') await tx.query(sql('lifecycle/dag_run_reopen'), [runId]);
  await audit(tx, who, action, locked.run, [
    ...(runTo !== locked.run.state ? [{ taskId: null, from: locked.run.state, to: runTo, tryNumber: null, attemptId: null }] : []),
    ...plan.map((p) => ({ taskId: p.taskId, from: p.state, to: req.state, tryNumber: p.tryNumber, attemptId: p.attemptId })),
  ], { taskIds: req.taskIds, downstream: Boolean(req.downstream), upstream: Boolean(req.upstream), recursive: Boolean(req.recursive) });
  await tx.query(sql('db/notify_scheduler'), [runId]);
  return { result, endCount };
}

export type AuditRow = {
  id: string; at: Date; actor: string; action: string; dag_id: string; dag_run_id: string; task_id: string | null;
  from_state: string; to_state: string; try_number: number | null; attempt_id: string | null; details: object;
};

export async function listAudit(db: Database, f: { runId?: string | null; dagId?: string | null; limit: number }): Promise<AuditRow[]> {
  return (await db.reads.query<AuditRow>(sql('lifecycle/audit_list'), [f.runId ?? null, f.dagId ?? null, f.limit])).rows;
}
