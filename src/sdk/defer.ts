// Deferral: a task gives its worker slot back and waits on a trigger. ctx.defer() throws
// this marker, which the runner reports instead of a failure; the task function runs again
// on some worker once the trigger fires, with the event in ctx.triggerEvent.
import type { TriggerSpec } from '../deferral/triggers/spec.js';

export interface DeferOptions {
  /** Fail the task (per its retry policy) when the trigger has not fired after this many seconds. */
  timeoutSec?: number;
}

const DEFERRAL = Symbol.for('keel.deferral');

export class TaskDeferral extends Error {
  readonly [DEFERRAL] = true;
  constructor(readonly trigger: TriggerSpec, readonly timeoutSec: number | null) {
    super('the task deferred itself; it resumes when its trigger fires');
  }
}

/** True for the marker thrown by ctx.defer() (also across module copies). */
export function isTaskDeferral(err: unknown): err is TaskDeferral {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[DEFERRAL] === true;
}
