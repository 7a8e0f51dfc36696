// Dag (authoring objects with functions) → SerializedDag (plain JSON stored in the
// database). Defaults live here, so a stored DAG is complete and needs no code to read.
import { parseScheduleInput } from '../core/schedule.js';
import type { SerializedDag, SerializedTask } from '../core/types.js';
import type { Dag, TaskOptions, TaskRef } from './dag.js';

export const TASK_DEFAULTS = {
  triggerRule: 'all_success',
  retries: 0,
  retryDelaySec: 300,
  retryExponentialBackoff: false,
  maxRetryDelaySec: 86400,
  executionTimeoutSec: null,
  pool: 'default_pool',
  poolSlots: 1,
  priorityWeight: 1,
  queue: 'default',
} as const;

export const DAG_DEFAULTS = { catchup: false, maxActiveRuns: 16, maxActiveTasks: 16, startDate: '1970-01-01T00:00:00.000Z' } as const;

function toIso(value: Date | string | undefined, field: string): string | null {
  if (value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`${field}: ${JSON.stringify(value)} is not a date; use an ISO-8601 string such as "2026-01-01" or a Date`);
  return d.toISOString();
}

function upstreamIds(upstream: TaskOptions['upstream']): string[] {
  if (upstream === undefined) return [];
  const list = typeof upstream === 'string' || !Array.isArray(upstream) ? [upstream as TaskRef | string] : (upstream as (TaskRef | string)[]);
  return list.map((u) => (typeof u === 'string' ? u : u.taskId));
}

export function serializeDag(dag: Dag, fileloc: string): SerializedDag {
  const o = dag.options;
  let schedule;
  try {
    schedule = parseScheduleInput(o.schedule ?? null);
  } catch (err) {
    throw new Error(`DAG "${dag.id}": schedule: ${(err as Error).message}`, { cause: err });
  }
  const { upstream: _ignored, ...taskDefaults } = o.defaultTaskOptions ?? {};
  const defaults = { ...TASK_DEFAULTS, ...taskDefaults };
  const tasks: SerializedTask[] = dag.tasks.map((t) => {
    const opt = { ...defaults, ...t.options };
    const upstream = upstreamIds(t.options.upstream);
    for (const [from, to] of dag.edges) if (to === t.taskId && !upstream.includes(from)) upstream.push(from);
    return {
      taskId: t.taskId,
      kind: t.kind,
      ...(t.kind === 'shell' ? { command: t.command ?? '' } : {}),
      // Checked by validateDag, so that a mistake is an import error naming the field.
      ...(t.env !== undefined ? { env: t.env } : {}),
      upstream,
      triggerRule: opt.triggerRule,
      retries: opt.retries,
      retryDelaySec: opt.retryDelaySec,
      exponentialBackoff: opt.retryExponentialBackoff,
      maxRetryDelaySec: opt.maxRetryDelaySec,
      executionTimeoutSec: opt.executionTimeoutSec ?? null,
      pool: opt.pool,
      poolSlots: opt.poolSlots,
      priorityWeight: opt.priorityWeight,
      queue: opt.queue,
    };
  });
  return {
    dagId: dag.id,
    fileloc,
    description: o.description ?? null,
    schedule,
    startDate: toIso(o.startDate, `DAG "${dag.id}": startDate`) ?? DAG_DEFAULTS.startDate,
    endDate: toIso(o.endDate, `DAG "${dag.id}": endDate`),
    catchup: o.catchup ?? DAG_DEFAULTS.catchup,
    maxActiveRuns: o.maxActiveRuns ?? DAG_DEFAULTS.maxActiveRuns,
    maxActiveTasks: o.maxActiveTasks ?? DAG_DEFAULTS.maxActiveTasks,
    tags: o.tags ?? [],
    params: { ...(o.params ?? {}) },
    tasks,
  };
}
