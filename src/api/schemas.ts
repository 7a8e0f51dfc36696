// JSON schemas shared by the API routes (they validate input and feed the OpenAPI document).
export const idParam = { type: 'string', pattern: '^[0-9]{1,18}$', description: 'numeric id' } as const;
export const dagIdParam = { type: 'string', minLength: 1, maxLength: 250 } as const;
export const limit = (max: number, dflt: number) => ({ type: 'integer', minimum: 1, maximum: max, default: dflt }) as const;
export const offset = { type: 'integer', minimum: 0, default: 0 } as const;
export const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;
export const TASK_STATES = ['pending', 'scheduled', 'queued', 'running', 'deferred', 'up_for_retry', 'success', 'failed', 'skipped', 'upstream_failed', 'removed'] as const;

export const object = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', properties, required, additionalProperties: false }) as const;

export const runParams = object({ runId: idParam }, ['runId']);
export const taskParams = object({ runId: idParam, taskId: { type: 'string', minLength: 1, maxLength: 250 } }, ['runId', 'taskId']);
export const dagParams = object({ dagId: dagIdParam }, ['dagId']);
