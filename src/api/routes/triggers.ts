// External events and the triggers of deferred tasks: POST /events resumes the tasks
// waiting on triggers.external(key) (idempotent by eventId, like `keel events post`);
// GET /triggers lists what deferred tasks wait on and which triggerer holds each wait.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import { EVENT_KEY_MAX, postExternalEvent } from '../../deferral/external-events.js';
import { describeTrigger, parseTriggerSpec } from '../../deferral/triggers/spec.js';
import { idParam, limit, object, offset, taskParams } from '../schemas.js';
import { sql } from '../../db/sql.js';

export const TRIGGER_STATES = ['waiting', 'fired', 'timed_out', 'failed', 'cancelled'] as const;

/** A trigger row as the API shows it: its kind and a description instead of the raw spec. */
export function toTrigger({ spec, total: _t, ...row }: Record<string, unknown>): Record<string, unknown> {
  let description: string;
  try {
    description = describeTrigger(parseTriggerSpec(spec));
  } catch (err) {
    description = (err as Error).message;
  }
  return { ...row, kind: (spec as { kind?: unknown } | null)?.kind ?? null, description };
}

/** The latest trigger of a task instance (what a deferred task waits on), or null. */
export async function latestTrigger(db: Database, runId: string, taskId: string): Promise<Record<string, unknown> | null> {
  const row = (await db.query(sql('api/triggers_list'), [null, runId, taskId, 1, 0])).rows[0];
  return row ? toTrigger(row) : null;
}

export function triggerRoutes(app: FastifyInstance, db: Database): void {
  app.post('/events', {
    schema: {
      tags: ['triggers'], summary: 'Post an external event: tasks waiting on triggers.external(key) resume with the payload. 201 when posted, 200 when this eventId had been posted already (nothing changes)',
      body: object({
        key: { type: 'string', minLength: 1, maxLength: EVENT_KEY_MAX },
        payload: { description: 'any JSON value (default null)' },
        eventId: { type: 'string', minLength: 1, maxLength: 200, description: 'idempotency id: a retried post with the same id changes nothing (default: a new UUID)' },
      }, ['key']),
    },
  }, async (req, reply) => {
    const b = req.body as { key: string; payload?: unknown; eventId?: string };
    const e = await postExternalEvent(db, b.key, b.payload ?? null, b.eventId);
    return reply.code(e.created ? 201 : 200).send(e);
  });

  app.get('/triggers', {
    schema: {
      tags: ['triggers'], summary: 'Triggers of deferred tasks, newest first: kind, description, task, holder (triggerer) and times',
      querystring: object({ state: { type: 'string', enum: [...TRIGGER_STATES] }, runId: idParam, taskId: taskParams.properties.taskId, limit: limit(500, 50), offset }),
    },
  }, async (req) => {
    const f = req.query as { state?: string; runId?: string; taskId?: string; limit: number; offset: number };
    const rows = (await db.query(sql('api/triggers_list'), [f.state ?? null, f.runId ?? null, f.taskId ?? null, f.limit, f.offset])).rows;
    return { triggers: rows.map(toTrigger), total: rows[0]?.total ?? 0, limit: f.limit, offset: f.offset };
  });
}
