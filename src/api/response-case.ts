// One shape for every JSON answer of /api/v1 and /health: field names in camelCase and
// times as ISO 8601 in UTC with a `Z` (`2026-01-31T09:30:00.000Z`), whatever the SQL
// row or jsonb aggregate they came from said (`dag_id`, `…+00:00`). Values that hold
// user data (a run's params, a task's result, an event's payload, a connection's extra
// fields, a variable's value, the serialized DAG) are passed on as they are: their keys
// are the user's, not the API's.
import type { FastifyInstance } from 'fastify';

export const USER_DATA_KEYS = new Set(['params', 'result', 'payload', 'extra', 'value', 'serialized', 'schedule']);
const TIME_KEY = /(^at$|At$|Date$|Start$|End$)/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

export const camelCase = (key: string): string => key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function normalise(value: unknown, key: string | null): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'string') return key !== null && TIME_KEY.test(key) && TIMESTAMP.test(value) ? new Date(value).toISOString() : value;
  if (Array.isArray(value)) return value.map((v) => normalise(v, key));
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const name = camelCase(k);
    out[name] = USER_DATA_KEYS.has(name) ? v : normalise(v, name);
  }
  return out;
}

/** The API's answer for `payload`: camelCase names, UTC `Z` times, user data untouched. */
export const toApiShape = (payload: unknown): unknown => normalise(payload, null);

/**
 * A dag_run row as the API names it: `id` is the numeric id used in /runs/{runId} (and
 * `runId` wherever another object points at a run); the run's text id, unique within its
 * DAG (`scheduled__2026-01-31T00:00:00Z`, or the one given when triggering), is `runName`.
 */
export const toRun = ({ run_id, ...row }: Record<string, unknown>): Record<string, unknown> => ({ ...row, run_name: run_id });

/** Normalises every JSON answer sent from this scope, except a route's whose config says `keepShape` (the OpenAPI document). */
export function registerApiShape(app: FastifyInstance): void {
  app.addHook('preSerialization', async (req, _reply, payload) => (req.routeOptions.config.keepShape ? payload : toApiShape(payload)));
}
