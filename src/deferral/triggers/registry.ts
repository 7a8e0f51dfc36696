// Custom triggers by name. defineTrigger() registers into a process-wide map keyed by a
// global symbol, so a DAG file importing 'keel' through another module path (tsx, the
// package's self-reference) still registers where the runner and the trigger child look.
export interface CustomTriggerContext {
  /** Aborted when the trigger is given up (taken over, cancelled, timed out, shutdown). */
  signal: AbortSignal;
}

export interface CustomTriggerDefinition<A = unknown> {
  /** One check. Return undefined, null or false while the condition is not met; anything else fires the trigger with that value as the event (true fires with null). */
  poll(args: A, ctx: CustomTriggerContext): unknown;
  /** Seconds between two checks (default 5). */
  pollSec?: number;
}

const REGISTRY = Symbol.for('keel.customTriggers');
type Registry = Map<string, CustomTriggerDefinition>;

export function customTriggers(): Registry {
  const g = globalThis as { [REGISTRY]?: Registry };
  g[REGISTRY] ??= new Map();
  return g[REGISTRY];
}
