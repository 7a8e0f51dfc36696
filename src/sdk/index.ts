// Public authoring API: what DAG files import from 'keel'.
export { dag, isDag } from './dag.js';
export type { Dag, DagBuilder, DagOptions, ShellTaskOptions, TaskFunction, TaskOptions, TaskRef, ScheduleInput } from './dag.js';
export { param } from './params.js';
export type { Param, ParamValues } from './params.js';
export type { TaskContext, TaskLogger } from './context.js';
export type { TriggerRule } from '../core/types.js';
