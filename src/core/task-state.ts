// The task-instance state machine. Every role that writes a task state checks here first, so
// an illegal jump (say pending -> running, which would skip dependency and pool checks) is
// refused in one place instead of being re-derived in SQL.
import { FINAL_TASK_STATES, type TaskState } from './types.js';

const FINAL = new Set<TaskState>(FINAL_TASK_STATES);

const ALLOWED: Readonly<Record<TaskState, readonly TaskState[]>> = {
  // Dependencies met -> scheduled; or settled by its trigger rule; or dropped from the DAG.
  pending: ['scheduled', 'skipped', 'upstream_failed', 'removed'],
  // Waiting for a pool slot / run budget; a skip can still arrive (e.g. the run is cut short).
  scheduled: ['queued', 'removed', 'skipped'],
  // Claimable; handed back to scheduled when the queue is drained or the claim is undone.
  queued: ['running', 'scheduled', 'removed'],
  // Back to queued only when a worker shuts down gracefully: that attempt counts no try.
  // Deferred: the attempt waits on a trigger without holding a worker slot.
  running: ['success', 'failed', 'up_for_retry', 'queued', 'removed', 'deferred'],
  // The trigger fired or timed out: scheduled again, to resume on any worker; or cancelled.
  deferred: ['scheduled', 'failed', 'removed'],
  // The retry delay has passed (or the task left the DAG).
  up_for_retry: ['scheduled', 'removed'],
  // Final states only move back to pending: the operator's "clear".
  success: ['pending'],
  failed: ['pending'],
  skipped: ['pending'],
  upstream_failed: ['pending'],
  removed: ['pending'],
};

export function isFinal(s: TaskState): boolean {
  return FINAL.has(s);
}

/** Whether `from -> to` is a legal move; staying in the same state is not a transition. */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return ALLOWED[from]?.includes(to) ?? false;
}
