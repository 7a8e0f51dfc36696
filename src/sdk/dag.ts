// The authoring API: `dag(options, build)` describes a DAG; DAG files export the result.
// Nothing here runs tasks; the DAG processor serializes what it describes and the runner
// process looks task functions up by id.
import type { ParamSpec, Schedule, TriggerRule } from '../core/types.js';
import type { TaskContext } from './context.js';
import type { ParamsShape, ParamValues } from './params.js';

export const DAG_BRAND = Symbol.for('keel.dag');

export type ScheduleInput = string | { cron: string; timezone?: string } | { every: string | number } | null;

export interface TaskOptions {
  upstream?: TaskRef | readonly (TaskRef | string)[] | string;
  triggerRule?: TriggerRule;
  retries?: number;
  retryDelaySec?: number;
  retryExponentialBackoff?: boolean;
  maxRetryDelaySec?: number;
  executionTimeoutSec?: number | null;
  pool?: string;
  poolSlots?: number;
  priorityWeight?: number;
  queue?: string;
}

export interface ShellTaskOptions extends TaskOptions {
  /** Run by bash -c. Params are in the environment as KEEL_PARAM_<NAME>; the last stdout line is the result. */
  command: string;
}

export interface DagOptions<P extends ParamsShape> {
  id: string;
  description?: string;
  /** Cron string or preset ('@hourly'), { cron, timezone }, { every: '15m' | seconds }, or null for manual runs only. */
  schedule?: ScheduleInput;
  startDate?: Date | string;
  endDate?: Date | string;
  /** Create a run for every missed interval since startDate (default false, as in Airflow 3). */
  catchup?: boolean;
  maxActiveRuns?: number;
  /** Task instances of one run that may be queued or running at once. */
  maxActiveTasks?: number;
  tags?: string[];
  params?: P;
  defaultTaskOptions?: TaskOptions;
}

export type TaskFunction<P> = (ctx: TaskContext<P>) => unknown;

export interface TaskRef {
  readonly taskId: string;
}

export interface TaskDefinition {
  taskId: string;
  kind: 'function' | 'shell';
  fn?: TaskFunction<never>;
  command?: string;
  options: TaskOptions;
}

export interface Dag {
  readonly [DAG_BRAND]: true;
  readonly id: string;
  readonly options: DagOptions<ParamsShape>;
  readonly tasks: readonly TaskDefinition[];
  /** Set by chain(): extra edges (upstream → downstream). */
  readonly edges: readonly [string, string][];
}

export interface DagBuilder<P extends ParamsShape> {
  task(taskId: string, fn: TaskFunction<ParamValues<P>>): TaskRef;
  task(taskId: string, options: TaskOptions, fn: TaskFunction<ParamValues<P>>): TaskRef;
  shell(taskId: string, options: ShellTaskOptions): TaskRef;
  /** chain(a, b, c): a runs before b, b before c. */
  chain(...refs: TaskRef[]): void;
}

export function dag<P extends ParamsShape = Record<never, never>>(options: DagOptions<P>, build: (d: DagBuilder<P>) => void): Dag {
  const tasks: TaskDefinition[] = [];
  const edges: [string, string][] = [];
  const builder: DagBuilder<P> = {
    task(taskId: string, a: TaskOptions | TaskFunction<ParamValues<P>>, b?: TaskFunction<ParamValues<P>>): TaskRef {
      const fn = typeof a === 'function' ? a : b;
      const opts = typeof a === 'function' ? {} : a;
      if (typeof fn !== 'function') throw new TypeError(`task "${taskId}" of DAG "${options.id}": expected a task function`);
      tasks.push({ taskId, kind: 'function', fn: fn as TaskFunction<never>, options: opts });
      return { taskId };
    },
    shell(taskId, opts) {
      const { command, ...rest } = opts;
      tasks.push({ taskId, kind: 'shell', command, options: rest });
      return { taskId };
    },
    chain(...refs) {
      for (let i = 1; i < refs.length; i++) edges.push([refs[i - 1]!.taskId, refs[i]!.taskId]);
    },
  };
  build(builder);
  return { [DAG_BRAND]: true, id: options.id, options: options as DagOptions<ParamsShape>, tasks, edges };
}

export function isDag(value: unknown): value is Dag {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DAG_BRAND] === true;
}

export type { ParamSpec, Schedule };
