// Public authoring API: what DAG files import from 'keel'.
export { dag, isDag } from './dag.js';
export type { Dag, DagBuilder, DagOptions, SensorOptions, ShellTaskOptions, TaskFunction, TaskOptions, TaskRef, ScheduleInput } from './dag.js';
export { param } from './params.js';
export type { Param, ParamValues } from './params.js';
export type { Connection, TaskConnections, TaskContext, TaskLogger, TaskVariables } from './context.js';
export type { ConnectionField, ShellEnvValue, TriggerRule } from '../core/types.js';
export { triggers, defineTrigger } from './triggers.js';
export type { CustomTrigger } from './triggers.js';
export type { DeferOptions } from './defer.js';
export type { TriggerSpec } from '../deferral/triggers/spec.js';
export type { CustomTriggerContext, CustomTriggerDefinition } from '../deferral/triggers/registry.js';
