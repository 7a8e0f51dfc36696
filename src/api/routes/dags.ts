// DAGs: list, show, pause/unpause, trigger (params validated by the DAG's specs), the
// grid of latest runs × tasks, and import errors.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import { UsageError } from '../../errors.js';
import { triggerDag } from '../../runs/manual-run.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN, IdempotencyKeyConflict, idempotencyKeyProblem, triggerDagWithKey } from '../../runs/idempotency-key.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { dagParams, dateTime, limit, object } from '../schemas.js';
import { sql } from '../../db/sql.js';

export function dagRoutes(app: FastifyInstance, db: Database): void {
  app.get('/dags', {
    schema: { tags: ['dags'], summary: 'DAGs with schedule, next run and latest runs', querystring: object({ paused: { type: 'boolean' }, includeInactive: { type: 'boolean', default: false } }) },
  }, async (req) => {
    const q = req.query as { paused?: boolean; includeInactive: boolean };
    const dags = (await db.reads.query(sql('api/dags_list'), [q.paused ?? null, q.includeInactive])).rows;
    const importErrors = (await db.query(sql('cli/dag_file_import_errors'))).rows;
    return { dags, importErrors };
  });

  app.get('/dags/:dagId', { schema: { tags: ['dags'], summary: 'A DAG with its tasks, dependencies and params', params: dagParams } }, async (req) => {
    const { dagId } = req.params as { dagId: string };
    const row = (await db.query(sql('cli/dag_show'), [dagId])).rows[0];
    if (!row) throw notFound(`unknown DAG id "${dagId}"`);
    return row;
  });

  for (const [action, paused] of [['pause', true], ['unpause', false]] as const) {
    app.post(`/dags/:dagId/${action}`, { schema: { tags: ['dags'], summary: `${action} a DAG`, params: dagParams } }, async (req) => {
      const { dagId } = req.params as { dagId: string };
      const r = await db.query(sql('cli/dag_set_paused'), [dagId, paused]);
      if (!r.rowCount) throw notFound(`unknown DAG id "${dagId}"`);
      return { dagId, isPaused: paused };
    });
  }
  app.patch('/dags/:dagId', { schema: { tags: ['dags'], summary: 'Pause or unpause a DAG', params: dagParams, body: object({ isPaused: { type: 'boolean' } }, ['isPaused']) } }, async (req) => {
    const { dagId } = req.params as { dagId: string };
    const { isPaused } = req.body as { isPaused: boolean };
    const r = await db.query(sql('cli/dag_set_paused'), [dagId, isPaused]);
    if (!r.rowCount) throw notFound(`unknown DAG id "${dagId}"`);
    return { dagId, isPaused };
  });

  const KEY_FIELD = 'headers.idempotency-key';
  app.post('/dags/:dagId/runs', {
    schema: {
      tags: ['runs'], summary: 'Trigger a run; params are checked against the DAG\'s param specs',
      description: '201 with the new run. With an `Idempotency-Key` header, a repeat with the same key on the same DAG creates nothing: '
        + '200 with the run the first request made (also when the repeat raced the first: exactly one of them gets 201), '
        + 'or 409 when the repeat asks for other params, logicalDate or runName. Every field is optional: no body at all triggers a run with default params.',
      params: dagParams,
      // Not additionalProperties: false: every other header is allowed.
      headers: {
        type: 'object',
        properties: {
          'idempotency-key': {
            type: 'string', minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: IDEMPOTENCY_KEY_PATTERN,
            description: 'Optional client key (1–255 printable ASCII characters, e.g. a UUID made once per logical request): '
              + 'sending it again, on this DAG, returns the same run instead of creating another.',
          },
        },
      },
      body: object({
        params: { type: 'object', additionalProperties: true },
        logicalDate: dateTime,
        runName: { type: 'string', minLength: 1, maxLength: 250, pattern: '^[A-Za-z0-9_.:+-]+$', description: 'the run\'s text id, unique within the DAG (default: manual__<logical date>)' },
      }),
    },
    // Before schema validation, so that a bad key gets a message saying what a good one is.
    // Node joins repeated headers into one ("a, b"): the distinct values tell a repeat apart.
    preValidation: async (req) => {
      const keys = req.raw.headersDistinct['idempotency-key'];
      if (keys === undefined) return;
      const problem = keys.length > 1 ? 'send the header once' : idempotencyKeyProblem(keys[0]!);
      if (problem) throw badRequest(KEY_FIELD, problem);
    },
  }, async (req, reply) => {
    const { dagId } = req.params as { dagId: string };
    const body = (req.body ?? {}) as { params?: Record<string, unknown>; logicalDate?: string; runName?: string };
    const key = req.headers['idempotency-key'] as string | undefined;
    if (!(await db.query(sql('cli/dag_show'), [dagId])).rowCount) throw notFound(`unknown DAG id "${dagId}"`);
    const asked = { params: body.params, logicalDate: body.logicalDate ? new Date(body.logicalDate) : undefined, runId: body.runName };
    try {
      const { created, runId: runName, ...run } = key === undefined ? await triggerDag(db, dagId, asked) : await triggerDagWithKey(db, dagId, asked, key, KEY_FIELD);
      return reply.code(created ? 201 : 200).send({ ...run, runName }); // the status says created; the body is the run
    } catch (err) {
      if (err instanceof IdempotencyKeyConflict) throw conflict(err.message, KEY_FIELD);
      if (!(err instanceof UsageError)) throw err;
      const param = /param "([^"]+)"/.exec(err.message)?.[1];
      if (err.message.startsWith('invalid params')) throw badRequest(param ? `body.params.${param}` : 'body.params', err.message);
      if (err.message.includes('already has a run')) throw badRequest(body.runName ? 'body.runName' : 'body.logicalDate', err.message);
      throw err;
    }
  });

  app.get('/dags/:dagId/grid', {
    schema: { tags: ['dags'], summary: 'Latest runs × tasks with their states, tries and times, newest run first (cacheable with ETag)', params: dagParams, querystring: object({ limit: limit(200, 25) }) },
  }, async (req) => {
    const { dagId } = req.params as { dagId: string };
    const dag = (await db.query(sql('cli/dag_show'), [dagId])).rows[0];
    if (!dag) throw notFound(`unknown DAG id "${dagId}"`);
    const runs = (await db.reads.query(sql('api/dag_grid'), [dagId, (req.query as { limit: number }).limit])).rows;
    return { dagId, tasks: dag.serialized.tasks.map((t: { taskId: string; upstream: string[] }) => ({ taskId: t.taskId, upstream: t.upstream })), runs };
  });

  app.get('/importErrors', { schema: { tags: ['dags'], summary: 'DAG files that failed to load' } }, async () => ({ importErrors: (await db.query(sql('cli/dag_file_import_errors'))).rows }));
}
