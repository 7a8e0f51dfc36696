// DAG runs and their task instances: list with filters and pagination, show, cancel,
// clear (retry), and task logs by byte offset so a client can follow a running attempt.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../../db/database.js';
import { MAX_INT4 } from '../../core/input-limits.js';
import { UsageError } from '../../errors.js';
import { cancelRun, clearTasks, LifecycleConflictError, listAudit, markTasks, RunNotFoundError, type Actor, type ClearRequest, type Expected, type MarkRequest } from '../../runs/lifecycle.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { dagIdParam, dateTime, limit, object, offset, RUN_STATES, runParams, TASK_STATES, taskParams } from '../schemas.js';
import { toRun } from '../response-case.js';
import { whyWaiting } from '../../runs/waiting.js';
import { latestTrigger } from './triggers.js';
import { sql } from '../../db/sql.js';
import { readSecretValues } from '../../secrets/known-values.js';
import { SecretMasker } from '../../secrets/masker.js';
import type { SecretBox } from '../../secrets/secret-box.js';

/** How the lifecycle actions judge a worker gone (the orphan sweep's options). */
export type LifecycleOptions = Pick<Actor, 'workerLostAfterSec' | 'dbOutageGraceSec'>;

async function lifecycle<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof RunNotFoundError) throw notFound(err.message);
    if (err instanceof LifecycleConflictError) throw conflict(err.message);
    if (err instanceof UsageError) throw badRequest('body.taskIds', err.message);
    throw err;
  }
}

const taskIdList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 250 }, minItems: 1, maxItems: 1000 };
const expectedList = {
  type: 'array', maxItems: 1000,
  description: 'The task instances the operator confirmed (from a dryRun answer): applied only if the plan is still exactly these',
  items: object({ taskId: { type: 'string', minLength: 1, maxLength: 250 }, state: { type: 'string', enum: [...TASK_STATES] }, attemptId: { type: ['string', 'null'], format: 'uuid' } }, ['taskId', 'state']),
};
const selection = {
  downstream: { type: 'boolean', description: 'also every task downstream of the named ones' },
  upstream: { type: 'boolean', description: 'also every task upstream of the named ones' },
  recursive: { type: 'boolean', description: 'grow the selection both ways until closed' },
  dryRun: { type: 'boolean', description: 'list what would change, change nothing' },
  expected: expectedList,
};

export function runRoutes(app: FastifyInstance, db: Database, opts: LifecycleOptions, box: SecretBox | null): void {
  const who = (req: FastifyRequest): Actor => ({ actor: req.user?.username ?? 'anonymous', ...opts });

  app.get('/runs', {
    schema: {
      tags: ['runs'], summary: 'Runs, newest first, with filters and pagination',
      querystring: object({
        dagId: dagIdParam, state: { type: 'string', enum: [...RUN_STATES] }, runType: { type: 'string', enum: ['scheduled', 'manual', 'backfill'] },
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

  app.get('/runs/:runId', { schema: { tags: ['runs'], summary: 'A run and its task instances, each with waitingReason: why it does not progress (null when nothing holds it)', params: runParams } }, async (req) => {
    const { runId } = req.params as { runId: string };
    const run = (await db.query(sql('cli/dag_run_show'), [runId])).rows[0];
    if (!run) throw notFound(`no DAG run with id ${runId}`);
    const tasks = (await db.reads.query(sql('cli/task_instances_of_run'), [runId])).rows;
    const waiting = await whyWaiting(db, runId);
    return { ...toRun(run), waiting_reason: waiting?.run ?? null, tasks: tasks.map((t) => ({ ...t, waiting_reason: waiting?.tasks[t.task_id] ?? null })) };
  });

  app.get('/runs/:runId/dagVersion', {
    schema: { tags: ['runs'], summary: 'The DAG version this run executes: its serialized DAG (tasks, dependencies, params, schedule) and the file it came from', params: runParams },
  }, async (req) => {
    const { runId } = req.params as { runId: string };
    const version = (await db.query(sql('api/dag_version_of_run'), [runId])).rows[0];
    if (!version) throw notFound(`no DAG run with id ${runId}`);
    return version;
  });

  app.get('/runs/:runId/dagSource', {
    schema: {
      tags: ['runs'], summary: "The source this run executes: its DAG version's bundle (the DAG file first, then the local modules it imports); files is empty for a version stored before bundles existed",
      description: 'Non-admins see the secret values task logs mask (connection passwords, sensitive variables and connection extra fields) as "***".', params: runParams,
    },
  }, async (req) => {
    const { runId } = req.params as { runId: string };
    const row = (await db.query(sql('api/dag_source_of_run'), [runId])).rows[0];
    if (!row) throw notFound(`no DAG run with id ${runId}`);
    const { files, ...rest } = row as { files: Record<string, string> | null; entry: string | null };
    const masker = req.user?.role === 'admin' ? null : new SecretMasker(await readSecretValues(db, (connId, stored) => {
      if (!box) return null;
      try {
        return box.decrypt(stored);
      } catch (err) {
        req.log.warn({ err }, `the password of connection "${connId}" does not decrypt with this API copy's secretKey, so the DAG source cannot mask it`);
        return null;
      }
    }));
    // An array, not an object keyed by path: paths are data, not field names.
    const sources = Object.entries(files ?? {}).map(([path, source]) => ({ path, source: masker ? masker.mask(source) : source }))
      .sort((a, b) => Number(b.path === rest.entry) - Number(a.path === rest.entry) || a.path.localeCompare(b.path));
    return { ...rest, files: sources };
  });

  app.post('/runs/:runId/cancel', {
    schema: { tags: ['runs'], summary: 'Cancel a queued or running run: unfinished tasks fail, running attempts are stopped (fenced), the run fails', params: runParams, body: object({ dryRun: selection.dryRun }) },
  }, async (req) => {
    const { runId } = req.params as { runId: string };
    const r = await lifecycle(() => cancelRun(db, runId, who(req), (req.body as { dryRun?: boolean } | undefined)?.dryRun));
    return { ...r, state: r.runState.to, cancelledTasks: r.tasks.map((t) => t.taskId) };
  });

  app.post('/runs/:runId/clear', {
    schema: {
      tags: ['tasks'], summary: 'Clear task instances so that they run again (the whole run when taskIds is absent); the run goes back to running', params: runParams,
      body: object({ taskIds: taskIdList, onlyFailed: { type: 'boolean', description: 'only the failed and upstream_failed ones' }, ...selection }),
    },
  }, async (req) => {
    const { runId } = req.params as { runId: string };
    const b = (req.body ?? {}) as Omit<ClearRequest, 'taskIds'> & { taskIds?: string[]; expected?: Expected[] };
    const r = await lifecycle(() => clearTasks(db, runId, { ...b, taskIds: b.taskIds ?? null }, who(req)));
    return { ...r, cleared: r.tasks.map((t) => t.taskId) };
  });

  app.post('/runs/:runId/mark', {
    schema: {
      tags: ['tasks'], summary: 'Mark task instances (or, without taskIds, the run) success or failed; running attempts are stopped (fenced)', params: runParams,
      body: object({ state: { type: 'string', enum: ['success', 'failed'] }, taskIds: taskIdList, ...selection }, ['state']),
    },
  }, async (req) => {
    const { runId } = req.params as { runId: string };
    const b = req.body as Omit<MarkRequest, 'taskIds'> & { taskIds?: string[] };
    return lifecycle(() => markTasks(db, runId, { ...b, taskIds: b.taskIds ?? null }, who(req)));
  });

  app.get('/audit', {
    schema: { tags: ['runs'], summary: "The operators' clears, marks and cancels, newest first", querystring: object({ runId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }, dagId: dagIdParam, limit: limit(1000, 100) }) },
  }, async (req) => {
    const f = req.query as { runId?: number; dagId?: string; limit: number };
    return { entries: await listAudit(db, { runId: f.runId === undefined ? null : String(f.runId), dagId: f.dagId ?? null, limit: f.limit }) };
  });

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

  app.post('/runs/:runId/tasks/:taskId/clear', {
    schema: { tags: ['tasks'], summary: 'Clear (retry) one finished task instance, with its downstream tasks unless downstream is false', params: taskParams, body: object({ downstream: { type: 'boolean', default: true }, upstream: selection.upstream, dryRun: selection.dryRun }) },
  }, async (req) => {
    const { runId, taskId } = req.params as { runId: string; taskId: string };
    const b = (req.body ?? {}) as { downstream?: boolean; upstream?: boolean; dryRun?: boolean };
    const r = await lifecycle(() => clearTasks(db, runId, { taskIds: [taskId], downstream: b.downstream ?? true, upstream: b.upstream, dryRun: b.dryRun }, who(req)));
    return { ...r, cleared: r.tasks.map((t) => t.taskId) };
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
