// The authoring API: `dag(options, build)` describes a DAG; DAG files export the result.
// Nothing here runs tasks; the DAG processor serializes what it describes and the runner
// process looks task functions up by id.
import type { ParamSpec, Schedule, ShellEnvValue, TriggerRule } from '../core/types.js';
import type { TaskContext } from './context.js';
import { pokeUntilFired } from '../deferral/triggers/poke.js';
import { LOCAL_TRIGGER_KINDS, parseTriggerSpec, type TriggerSpec } from '../deferral/triggers/spec.js';
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
  /**
   * Run by bash -c. Params are in the environment as KEEL_PARAM_<NAME>, upstream results as
   * KEEL_UPSTREAM_<TASK_ID> and in the JSON file KEEL_UPSTREAM_FILE; the last stdout line is the result.
   */
  command: string;
  /** More environment variables: a literal, a variable's value ({ variable }) or a connection's field ({ connection, field }). */
  env?: Record<string, ShellEnvValue>;
}

export interface SensorOptions<P> extends TaskOptions {
  /** What to wait for: a spec from `triggers.*` / a custom trigger, or a function of the task context that returns one. */
  trigger: TriggerSpec | ((ctx: TaskContext<P>) => TriggerSpec);
  /** deferrable (default): wait in a triggerer without a worker slot. poke: hold the slot and check every pokeIntervalSec. */
  mode?: 'deferrable' | 'poke';
  /** Poke mode: seconds between checks (default: the trigger's own interval). */
  pokeIntervalSec?: number;
  /** Fail (per the retry policy) when the trigger has not fired after this many seconds. */
  timeoutSec?: number;
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
  env?: Record<string, ShellEnvValue>;
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
  /** A task that waits for a trigger and returns its event (Airflow's sensors, in poke or deferrable mode). */
  sensor(taskId: string, options: SensorOptions<ParamValues<P>>): TaskRef;
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
      const { command, env, ...rest } = opts;
      tasks.push({ taskId, kind: 'shell', command, ...(env !== undefined ? { env } : {}), options: rest });
      return { taskId };
    },
    sensor(taskId, opts) {
      const { trigger, mode = 'deferrable', pokeIntervalSec, timeoutSec, ...rest } = opts;
      if (typeof trigger !== 'function') {
        // A fixed trigger is checked when the DAG loads, so a mistake is an import error.
        const where = `sensor "${taskId}" of DAG "${options.id}"`;
        try {
          parseTriggerSpec(trigger);
        } catch (err) {
          throw new TypeError(`${where}: ${(err as Error).message}`, { cause: err });
        }
        if (mode === 'poke' && !LOCAL_TRIGGER_KINDS.includes(trigger.kind)) {
          throw new TypeError(`${where}: a "${trigger.kind}" trigger needs mode "deferrable" (poke mode checks inside the task's runner, without the database)`);
        }
      }
      const fn = async (ctx: TaskContext<ParamValues<P>>): Promise<unknown> => {
        if (ctx.resumed) return ctx.triggerEvent;
        const spec = parseTriggerSpec(typeof trigger === 'function' ? trigger(ctx) : trigger);
        if (mode === 'deferrable') ctx.defer(spec, { timeoutSec });
        return pokeUntilFired(spec, { signal: ctx.signal, intervalSec: pokeIntervalSec, timeoutSec, log: (m) => ctx.log.info(m) });
      };
      tasks.push({ taskId, kind: 'function', fn: fn as TaskFunction<never>, options: rest });
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

export type { ParamSpec, Schedule, ShellEnvValue };
