// DAG runs and their task instances: list with filters and pagination, show, cancel,
// clear (retry), and task logs by byte offset so a client can follow a running attempt.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import { MAX_INT4 } from '../../core/input-limits.js';
import { UsageError } from '../../errors.js';
import { clearTaskInstances, RunNotFoundError } from '../../runs/clear.js';
import { conflict, notFound } from '../errors.js';
import { dagIdParam, dateTime, limit, object, offset, RUN_STATES, runParams, TASK_STATES, taskParams } from '../schemas.js';
import { toRun } from '../response-case.js';
import { latestTrigger } from './triggers.js';
import { sql } from '../../db/sql.js';

async function clear(db: Database, runId: string, taskIds: string[] | null) {
  try {
    return { runId, cleared: await clearTaskInstances(db, runId, taskIds) };
  } catch (err) {
    if (err instanceof RunNotFoundError) throw notFound(err.message);
    if (err instanceof UsageError) throw conflict(err.message, taskIds ? 'body.taskIds' : undefined);
    throw err;
  }
}

export function runRoutes(app: FastifyInstance, db: Database): void {
  app.get('/runs', {
    schema: {
      tags: ['runs'], summary: 'Runs, newest first, with filters and pagination',
      querystring: object({
        dagId: dagIdParam, state: { type: 'string', enum: [...RUN_STATES] }, runType: { type: 'string', enum: ['scheduled', 'manual'] },
        logicalDateFrom: dateTime, logicalDateTo: dateTime,
        limit: limit(500, 50), offset,
      }),
    },
  }, async (req) => {
    const f = req.query as { dagId?: string; state?: string; runType?: string; logicalDateFrom?: string; logicalDateTo?: string; limit: number; offset: number };
    const rows = (await db.reads.query(sql('api/runs_list'), [f.dagId ?? null, f.state ?? null, f.runType ?? null, f.logicalDateFrom ?? null, f.logicalDateTo ?? null, f.limit, f.offset])).rows;
    const total = rows[0]?.total ?? 0;
    return { runs: rows.map(({ total: _t, ...r }) => toRun(r)), total, limit: f.limit, offset: f.offset };
  });

  app.get('/runs/:runId', { schema: { tags: ['runs'], summary: 'A run and its task instances', params: runParams } }, async (req) => {
    const { runId } = req.params as { runId: string };
    const run = (await db.query(sql('cli/dag_run_show'), [runId])).rows[0];
    if (!run) throw notFound(`no DAG run with id ${runId}`);
    return { ...toRun(run), tasks: (await db.reads.query(sql('cli/task_instances_of_run'), [runId])).rows };
  });

  app.get('/runs/:runId/dagVersion', {
    schema: { tags: ['runs'], summary: 'The DAG version this run executes: its serialized DAG (tasks, dependencies, params, schedule) and the file it came from', params: runParams },
  }, async (req) => {
    const { runId } = req.params as { runId: string };
    const version = (await db.query(sql('api/dag_version_of_run'), [runId])).rows[0];
    if (!version) throw notFound(`no DAG run with id ${runId}`);
    return version;
  });

  app.post('/runs/:runId/cancel', { schema: { tags: ['runs'], summary: 'Cancel a queued or running run: unfinished tasks fail, running attempts are fenced', params: runParams } }, async (req) => {
    const { runId } = req.params as { runId: string };
    return db.inTransaction(async (tx) => {
      const run = (await tx.query<{ state: string }>(sql('runs/dag_run_lock'), [runId])).rows[0];
      if (!run) throw notFound(`no DAG run with id ${runId}`);
      if (run.state !== 'queued' && run.state !== 'running') throw conflict(`run ${runId} is already ${run.state}`);
      const tasks = (await tx.query<{ task_id: string; attempt_id: string | null }>(sql('api/run_cancel_tasks'), [runId])).rows;
      const attempts = tasks.map((t) => t.attempt_id).filter((a): a is string => a !== null);
      if (attempts.length) await tx.query(sql('api/attempts_cancel'), [attempts]);
      await tx.query(sql('api/run_cancel'), [runId]);
      return { runId, state: 'failed', cancelledTasks: tasks.map((t) => t.task_id) };
    });
  });

  app.post('/runs/:runId/clear', {
    schema: { tags: ['tasks'], summary: 'Clear finished task instances so that they run again (all when taskIds is absent)', params: runParams, body: object({ taskIds: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 } }) },
  }, async (req) => clear(db, (req.params as { runId: string }).runId, (req.body as { taskIds?: string[] } | undefined)?.taskIds ?? null));

  app.get('/runs/:runId/tasks', { schema: { tags: ['tasks'], summary: 'Task instances of a run', params: runParams } }, async (req) => {
    const { runId } = req.params as { runId: string };
    if (!(await db.query(sql('cli/dag_run_show'), [runId])).rowCount) throw notFound(`no DAG run with id ${runId}`);
    return { tasks: (await db.reads.query(sql('cli/task_instances_of_run'), [runId])).rows };
  });

  app.get('/runs/:runId/tasks/:taskId', { schema: { tags: ['tasks'], summary: 'A task instance, its attempts and its latest trigger (what it waits on while deferred)', params: taskParams } }, async (req) => {
    const { runId, taskId } = req.params as { runId: string; taskId: string };
    const ti = (await db.query(sql('api/task_show'), [runId, taskId])).rows[0];
    if (!ti) throw notFound(`no task "${taskId}" in run ${runId}`);
    return { ...ti, attempts: (await db.query(sql('api/task_attempts'), [ti.id])).rows, trigger: await latestTrigger(db, runId, taskId) };
  });

  app.post('/runs/:runId/tasks/:taskId/clear', { schema: { tags: ['tasks'], summary: 'Clear (retry) one finished task instance', params: taskParams } }, async (req) => {
    const { runId, taskId } = req.params as { runId: string; taskId: string };
    return clear(db, runId, [taskId]);
  });

  app.get('/runs/:runId/tasks/:taskId/logs', {
    schema: {
      tags: ['tasks'], summary: "A try's log from a character offset; poll with nextOffset until done to follow a running attempt",
      params: taskParams, querystring: object({ try: { type: 'integer', minimum: 1, maximum: MAX_INT4 }, offset, maxChars: { type: 'integer', minimum: 1, maximum: 1048576, default: 65536 } }),
    },
  }, async (req) => {
    const { runId, taskId } = req.params as { runId: string; taskId: string };
    const f = req.query as { try?: number; offset: number; maxChars: number };
    const a = (await db.reads.query(sql('api/task_log'), [runId, taskId, f.try ?? null, f.offset, f.maxChars])).rows[0];
    if (!a) {
      if (!(await db.query(sql('api/task_show'), [runId, taskId])).rowCount) throw notFound(`no task "${taskId}" in run ${runId}`);
      return { runId, taskId, tryNumber: null, content: '', offset: f.offset, nextOffset: f.offset, done: false };
    }
    const nextOffset = f.offset + (a.content_chars ?? 0);
    return {
      runId, taskId, tryNumber: a.try_number, attemptId: a.attempt_id, state: a.state, hostname: a.hostname, startedAt: a.started_at, endedAt: a.ended_at,
      offset: f.offset, nextOffset, size: a.size, content: a.content ?? '', done: a.state !== 'running' && nextOffset >= a.size,
    };
  });

  app.get('/taskInstances', {
    schema: { tags: ['tasks'], summary: 'Task instances across runs, newest first', querystring: object({ dagId: dagIdParam, state: { type: 'string', enum: [...TASK_STATES] }, limit: limit(500, 50), offset }) },
  }, async (req) => {
    const f = req.query as { dagId?: string; state?: string; limit: number; offset: number };
    const rows = (await db.reads.query(sql('api/task_instances'), [f.dagId ?? null, f.state ?? null, f.limit, f.offset])).rows;
    return { taskInstances: rows.map(({ total: _t, ...r }) => r), total: rows[0]?.total ?? 0, limit: f.limit, offset: f.offset };
  });
}
