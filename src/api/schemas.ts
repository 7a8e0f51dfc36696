// JSON schemas shared by the API routes (they validate input and feed the OpenAPI document).
// Numbers and dates are bounded where PostgreSQL would refuse them (an int4 column, a
// bigint, a timestamp before year 1), so such input is a 400 naming the field, not a 500.
import { MAX_ID_LENGTH } from '../core/dag-graph.js';
import { MAX_INT4 } from '../core/input-limits.js';

export const idParam = { type: 'string', pattern: '^[0-9]{1,18}$', description: 'numeric id' } as const;
export const dagIdParam = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } as const;
export const limit = (max: number, dflt: number) => ({ type: 'integer', minimum: 1, maximum: max, default: dflt }) as const;
export const offset = { type: 'integer', minimum: 0, maximum: MAX_INT4, default: 0 } as const;
/** RFC 3339 date-time in years 0001–9999 (PostgreSQL has no year 0). */
export const dateTime = { type: 'string', format: 'date-time', pattern: '^(?!0000)[0-9]{4}-' } as const;
export const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;
export const TASK_STATES = ['pending', 'scheduled', 'queued', 'running', 'deferred', 'up_for_retry', 'success', 'failed', 'skipped', 'upstream_failed', 'removed'] as const;

export const object = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', properties, required, additionalProperties: false }) as const;

export const runParams = object({ runId: idParam }, ['runId']);
export const taskParams = object({ runId: idParam, taskId: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } }, ['runId', 'taskId']);
export const dagParams = object({ dagId: dagIdParam }, ['dagId']);
