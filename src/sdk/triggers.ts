// Building what a deferred task or a sensor waits for. Each builder returns a plain trigger
// spec (JSON), validated when the task defers; custom triggers are defined with
// defineTrigger() in the DAG file or a module it imports.
import { customTriggers, type CustomTriggerDefinition } from '../deferral/triggers/registry.js';
import type { TriggerSpec } from '../deferral/triggers/spec.js';

type Spec<K extends TriggerSpec['kind']> = Extract<TriggerSpec, { kind: K }>;

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

export const triggers = {
  /** Fires at a date. */
  at: (date: Date | string): TriggerSpec => ({ kind: 'time', at: iso(date) }),
  /** Fires this many seconds after the call (the task's deferral). */
  after: (seconds: number): TriggerSpec => ({ kind: 'time', at: new Date(Date.now() + seconds * 1000).toISOString() }),
  /** Fires when a file exists at an absolute path. */
  file: (path: string, opts: { pollSec?: number } = {}): TriggerSpec => ({ kind: 'file', path, ...opts }),
  /** Fires when an HTTP endpoint answers with an expected status (and body text). */
  http: (url: string, opts: Omit<Spec<'http'>, 'kind' | 'url'> = {}): TriggerSpec => ({ kind: 'http', url, ...opts }),
  /** Fires when an event with this key is posted (`keel events post <key>` or POST /api/v1/events). */
  external: (key: string, opts: { since?: Date | string } = {}): TriggerSpec =>
    ({ kind: 'external', key, ...(opts.since ? { since: iso(opts.since) } : {}) }),
  /** Fires when another DAG's run (or one of its tasks) reaches a state: a cross-DAG sensor. */
  dagState: (opts: Omit<Spec<'dag-state'>, 'kind' | 'logicalDate'> & { logicalDate?: Date | string }): TriggerSpec => {
    const { logicalDate, ...rest } = opts;
    return { kind: 'dag-state', ...rest, ...(logicalDate ? { logicalDate: iso(logicalDate) } : {}) };
  },
};

export interface CustomTrigger<A> {
  readonly name: string;
  /** The spec to defer on (or to sense) with these arguments. */
  with(args: A, opts?: { pollSec?: number }): TriggerSpec;
}

/** Defines a trigger users can defer on; `poll` runs in the triggerer (deferrable) or the task's runner (poke). */
export function defineTrigger<A = unknown>(name: string, definition: CustomTriggerDefinition<A>): CustomTrigger<A> {
  if (!name) throw new TypeError('defineTrigger: name must be a non-empty string');
  if (typeof definition?.poll !== 'function') throw new TypeError(`defineTrigger("${name}"): poll must be a function`);
  customTriggers().set(name, definition as CustomTriggerDefinition);
  return {
    name,
    with: (args, opts = {}) => ({ kind: 'custom', name, args: args as unknown, pollSec: opts.pollSec ?? definition.pollSec }),
  };
}
