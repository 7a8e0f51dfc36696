// Backfills (src/runs/backfill.ts): create one for a DAG (or plan it with dryRun), list a
// DAG's, read one's progress and its dates, cancel one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_INT4 } from '../../core/input-limits.js';
import { REPROCESS, type Reprocess } from '../../core/backfill-plan.js';
import type { Database } from '../../db/database.js';
import { UsageError } from '../../errors.js';
import { BackfillConflictError, BackfillNotFoundError, backfillDates, backfillProgress, cancelBackfill, createBackfill, listBackfills } from '../../runs/backfill.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { dagParams, dateTime, idParam, limit, object } from '../schemas.js';
import type { LifecycleOptions } from './runs.js';

const backfillParams = object({ backfillId: idParam }, ['backfillId']);

async function answer<T>(action: () => Promise<T>, field: string): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof BackfillNotFoundError) throw notFound(err.message);
    if (err instanceof BackfillConflictError) throw conflict(err.message);
    if (err instanceof UsageError) throw badRequest(field, err.message);
    throw err;
  }
}

export function backfillRoutes(app: FastifyInstance, db: Database, opts: LifecycleOptions): void {
  app.post('/dags/:dagId/backfills', {
    schema: {
      tags: ['backfills'], summary: "Backfill a DAG: runs for its past intervals whose logical date is within [from, to], created by the schedulers at most maxActiveRuns at a time",
      description: "201 with the backfill and its planned dates (200 with dryRun: the plan, nothing stored). 409 when a running backfill of the DAG overlaps the range; 400 for a DAG without a schedule, "
        + "from after to, a range outside the DAG's startDate and endDate or in the future.",
      params: dagParams,
      body: object({
        from: { ...dateTime, description: 'first logical date (included)' },
        to: { ...dateTime, description: 'last logical date (included)' },
        reprocess: { type: 'string', enum: [...REPROCESS], default: 'none', description: 'dates that already have a finished run: none keeps them, failed runs the failed ones again, all every one' },
        maxActiveRuns: { type: 'integer', minimum: 1, maximum: MAX_INT4, description: "most of its runs active at once (default: the DAG's maxActiveRuns)" },
        dryRun: { type: 'boolean', description: 'plan only, store nothing' },
      }, ['from', 'to']),
    },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const { dagId } = req.params as { dagId: string };
    const b = req.body as { from: string; to: string; reprocess: Reprocess; maxActiveRuns?: number; dryRun?: boolean };
    const planned = await answer(() => createBackfill(db, {
      dagId, from: new Date(b.from), to: new Date(b.to), reprocess: b.reprocess, maxActiveRuns: b.maxActiveRuns, dryRun: b.dryRun, createdBy: req.user?.username ?? 'anonymous',
    }), 'body.from');
    return reply.code(planned.dryRun ? 200 : 201).send(planned);
  });

  app.get('/dags/:dagId/backfills', {
    schema: { tags: ['backfills'], summary: "A DAG's backfills with their progress, newest first", params: dagParams, querystring: object({ limit: limit(500, 25) }) },
  }, async (req) => {
    const { dagId } = req.params as { dagId: string };
    const { limit: n } = req.query as { limit: number };
    return { backfills: await listBackfills(db, { dagId, limit: n }) };
  });

  app.get('/backfills/:backfillId', {
    schema: { tags: ['backfills'], summary: "A backfill's progress: dates in all (total), planned, active, success, failed, skipped", params: backfillParams },
  }, async (req) => answer(() => backfillProgress(db, (req.params as { backfillId: string }).backfillId), 'params.backfillId'));

  app.get('/backfills/:backfillId/dates', {
    schema: { tags: ['backfills'], summary: "A backfill's logical dates in order: what it does with each, and the state of each run", params: backfillParams },
  }, async (req) => ({ dates: await answer(() => backfillDates(db, (req.params as { backfillId: string }).backfillId), 'params.backfillId') }));

  app.post('/backfills/:backfillId/cancel', {
    schema: {
      tags: ['backfills'], summary: 'Cancel a backfill: no more of its runs are created; its queued and running runs are cancelled (running attempts stopped). Again on a cancelled one: cancels the runs left; 409 when done',
      params: backfillParams,
    },
  }, async (req) => answer(() => cancelBackfill(db, (req.params as { backfillId: string }).backfillId, { actor: req.user?.username ?? 'anonymous', ...opts }), 'params.backfillId'));
}
