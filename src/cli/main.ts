// The `keel` command. Exit codes: 0 ok, 1 failure, 2 bad usage or input.
import { Command, CommanderError, Option } from 'commander';
import { loadOptions } from '../config/load.js';
import { configurationMarkdown } from '../config/markdown.js';
import type { KeelOptions, OptionName } from '../config/options.js';
import type { Database } from '../db/database.js';
import { migrate, schemaStatus } from '../db/migrate.js';
import { UsageError } from '../errors.js';
import { componentDbView, printDatabaseStatus, readDatabaseStatus } from '../ha/db-status.js';
import { createLogger } from '../log.js';
import { openDatabase } from '../runtime/database.js';
import { redactUrl } from '../config/redact-url.js';
import { startRole, type RoleName } from '../runtime/roles.js';
import { triggerDag } from '../runs/manual-run.js';
import { idempotencyKeyProblem, triggerDagWithKey } from '../runs/idempotency-key.js';
import { cancelRun, clearTasks, listAudit, markTasks, type Actor, type LifecycleResult } from '../runs/lifecycle.js';
import { whyWaiting } from '../runs/waiting.js';
import { fenceComponents } from '../fencing/operator-fence.js';
import { runAudit } from '../ha/audit.js';
import { runDiagnosis } from '../ha/diagnose.js';
import { parseDuration } from '../core/schedule.js';
import { userInfo } from 'node:os';
import { postExternalEvent } from '../deferral/external-events.js';
import { print, printAudit, printChaosSummary, printJson } from './output.js';
import { addLocalTestCommands } from './local-test.js';
import { addBackupCommands } from './backup.js';
import { CHAOS_MAX_DURATION_SEC, runChaos } from '../ops/chaos/harness.js';
import { createToken, createUser, endUserSessions, listTokens, listUsers, revokeToken, setUserDisabled, setUserPassword, setUserRole, userIdOf } from '../auth/users.js';
import { USER_ROLES, type UserRole } from '../auth/roles.js';
import { durationFlag, logicalDate, parseJson, parseJsonObject, poolName, poolSlots, positiveCount, positiveId, readPassword } from './inputs.js';
import { sql } from '../db/sql.js';
import { readOperatorNotice, setAnnouncement, setMaintenance, type OperatorNotice } from '../ha/operator-notice.js';
import { KEEL_VERSION } from '../version.js';
import { REPROCESS, type Reprocess } from '../core/backfill-plan.js';
import { backfillDates, backfillProgress, cancelBackfill, createBackfill, listBackfills, type BackfillPlanned, type BackfillProgress, type CancelledBackfill } from '../runs/backfill.js';
import { progressLine, watchBackfill } from './backfill-watch.js';
import { webUrl } from '../config/web-url.js';

interface GlobalFlags {
  config?: string;
  dags?: string;
  databaseUrl?: string;
  json?: boolean;
}

function optionsFrom(cmd: Command): KeelOptions {
  const g = cmd.optsWithGlobals<GlobalFlags>();
  const overrides: Partial<Record<OptionName, unknown>> = {};
  if (g.dags) overrides.dagsFolder = g.dags;
  if (g.databaseUrl) overrides.databaseUrl = g.databaseUrl;
  return loadOptions({ configFile: g.config, overrides });
}

/**
 * Runs a short command against the database; CLI commands log only warnings. On the
 * embedded database it never creates one (only `keel db init` and `keel standalone` do).
 */
async function withDb<T>(cmd: Command, fn: (d: Database, json: boolean) => Promise<T>, create = false): Promise<T> {
  const options = optionsFrom(cmd);
  const log = createLogger({ level: 'warn', format: options.logFormat });
  const database = await openDatabase(options, log, 'cli', { create });
  try {
    await migrate(database);
    return await fn(database, Boolean(cmd.optsWithGlobals<GlobalFlags>().json));
  } finally {
    await database.close();
  }
}

async function runRole(role: RoleName, cmd: Command): Promise<void> {
  const options = optionsFrom(cmd);
  const log = createLogger({ level: options.logLevel, format: options.logFormat, name: role });
  const running = await startRole(role, options, log);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        // No drain (running tasks are retried once their leases expire), but never an orphaned PostgreSQL.
        log.warn('second signal: exiting now, without the drain');
        running.stopNow().then(() => process.exit(1), (err) => {
          log.error({ err }, 'could not stop the embedded PostgreSQL');
          process.exit(1);
        });
        return;
      }
      stopping = true;
      log.info({ signal: sig }, 'stopping (a second Ctrl-C exits at once, without the drain)');
      running.stop().then(resolve, (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  log.info(`keel ${role} stopped`);
}

interface SelectionFlags { downstream?: boolean; upstream?: boolean; recursive?: boolean; dryRun?: boolean }

/** Who a CLI action is by, for the audit log, and how it judges a worker gone (the orphan sweep's options). */
function actorOf(cmd: Command): Actor {
  const options = optionsFrom(cmd);
  return { actor: `cli:${userInfo().username}`, workerLostAfterSec: options.workerLostAfterSec, dbOutageGraceSec: options.dbOutageGraceSec };
}

function markState(state: string): 'success' | 'failed' {
  if (state !== 'success' && state !== 'failed') throw new UsageError(`state must be success or failed, not "${state}"`);
  return state;
}

function printLifecycle(r: LifecycleResult, json: boolean, what: string, extra: object = {}): void {
  if (json) return printJson({ ...r, ...extra });
  const verb = r.dryRun ? `would ${what}` : what;
  console.log(`${verb}: run ${r.runId} (${r.dagId}) ${r.runState.from}${r.runState.to !== r.runState.from ? ` → ${r.runState.to}` : ''}, ${r.tasks.length} task instance(s)`);
  print(false, r.tasks.map((t) => ({ task_id: t.taskId, state: t.state, to: t.to, try_number: t.tryNumber, attempt_id: t.attemptId ?? '-' })), ['task_id', 'state', 'to', 'try_number', 'attempt_id']);
}

export function buildProgram(): Command {
  const program = new Command('keel')
    .description('Keel: a highly available workflow orchestrator on PostgreSQL')
    .option('--config <file>', 'config file (default: keel.config.json when present)')
    .option('--dags <folder>', 'DAGs folder (overrides KEEL_DAGS_FOLDER)')
    .option('--database-url <url>', 'PostgreSQL URL (overrides KEEL_DATABASE_URL)')
    .option('--json', 'machine-readable output')
    .version(KEEL_VERSION, '-V, --version', 'print the version of Keel')
    .exitOverride()
    .showHelpAfterError();

  for (const role of ['standalone', 'scheduler', 'worker', 'dag-processor', 'triggerer', 'api'] as const) {
    const descriptions = {
      api: 'REST API, web UI, health and metrics (stateless: run any number of copies behind a load balancer)',
      standalone: 'every role in one process, on the embedded PostgreSQL unless a URL is set',
      scheduler: 'create runs, decide and queue task instances, fence expired attempts',
      worker: 'claim and run task instances in runner processes',
      'dag-processor': 'load, validate and store DAG files',
      triggerer: 'wait on triggers for deferred tasks and deferrable sensors, then resume them',
    };
    program.command(role).description(descriptions[role]).action((_o, cmd: Command) => runRole(role, cmd));
  }

  const db = program.command('db').description('database schema');
  db.command('init').description('create the embedded database in dataDir (KEEL_DATA_DIR) if there is none, and apply the migrations').action(async (_o, cmd: Command) => {
    await withDb(cmd, async (d, json) => {
      const status = await schemaStatus(d);
      const where = d.embedded ? d.embedded.dataDir : 'the configured database';
      if (json) printJson({ database: where, version: status.applied.at(-1)?.version ?? 0 });
      else console.log(`Keel database in ${where} ready, schema at version ${status.applied.at(-1)?.version ?? 0}`);
    }, true);
  });
  db.command('migrate').description('apply pending migrations').action(async (_o, cmd: Command) => {
    await withDb(cmd, async (d, json) => {
      const status = await schemaStatus(d);
      if (json) printJson({ version: status.applied.at(-1)?.version ?? 0 });
      else console.log(`schema at version ${status.applied.at(-1)?.version ?? 0} (this Keel knows ${status.known})`);
    });
  });
  db.command('status').description('applied and pending migrations').action(async (_o, cmd: Command) => {
    const options = optionsFrom(cmd);
    const database = await openDatabase(options, createLogger({ level: 'warn', format: options.logFormat }), 'cli');
    try {
      const s = await schemaStatus(database);
      const rows = [
        ...s.applied.map((a) => ({ version: a.version, name: a.name, state: 'applied', at: a.appliedAt })),
        ...s.pending.map((p) => ({ version: p.version, name: p.name, state: 'pending', at: null })),
      ];
      print(Boolean(cmd.optsWithGlobals<GlobalFlags>().json), rows, ['version', 'name', 'state', 'at']);
    } finally {
      await database.close();
    }
  });

  const dags = program.command('dags').description('DAGs');
  dags.command('list').description('DAGs and import errors').action(async (_o, cmd: Command) => {
    await withDb(cmd, async (d, json) => {
      const rows = (await d.query(sql('cli/dags_list'))).rows;
      const errors = (await d.query(sql('cli/dag_file_import_errors'))).rows;
      if (json) return printJson({ dags: rows, importErrors: errors });
      print(false, rows.map((r) => ({ ...r, schedule: describeSchedule(r.schedule) })), ['dag_id', 'paused', 'active', 'schedule', 'next_run', 'last_run_state', 'fileloc']);
      if (errors.length) {
        console.log(`\nimport errors (${errors.length}):`);
        for (const e of errors) console.log(`  ${e.fileloc}:\n    ${String(e.error).split('\n').join('\n    ')}`);
      }
    });
  });
  dags.command('show <dagId>').description('a DAG, its tasks and dependencies').action(async (dagId: string, _o, cmd: Command) => {
    await withDb(cmd, async (d, json) => {
      const row = (await d.query(sql('cli/dag_show'), [dagId])).rows[0];
      if (!row) throw new UsageError(`unknown DAG id "${dagId}"; see \`keel dags list\``);
      if (json) return printJson(row);
      const s = row.serialized;
      console.log(`${row.dag_id}  (${row.fileloc}, version ${row.version_hash}${row.is_paused ? ', paused' : ''}${row.is_active ? '' : ', inactive'})`);
      console.log(`schedule: ${describeSchedule(s.schedule)}  start: ${s.startDate}  catchup: ${s.catchup}  next run due: ${row.next_dagrun_at?.toISOString() ?? '-'}`);
      if (Object.keys(s.params).length) console.log(`params: ${JSON.stringify(s.params)}`);
      print(false, s.tasks.map((t: Record<string, unknown>) => ({ ...t, upstream: (t.upstream as string[]).join(',') })), ['taskId', 'kind', 'upstream', 'triggerRule', 'retries', 'pool', 'queue', 'priorityWeight']);
    });
  });
  dags.command('trigger <dagId>').description('start a manual run')
    .option('--params <json>', 'run params as a JSON object')
    .option('--logical-date <iso>', 'logical date (default: now)')
    .option('--run-id <id>', 'run id (default: manual__<logical date>)')
    .option('--idempotency-key <key>', 'client key (1-255 printable ASCII characters): triggering the DAG again with it returns the same run instead of a new one')
    .action(async (dagId: string, o: { params?: string; logicalDate?: string; runId?: string; idempotencyKey?: string }, cmd: Command) => {
      const asked = {
        params: o.params ? parseJsonObject(o.params, '--params') : undefined,
        logicalDate: o.logicalDate ? logicalDate(o.logicalDate, '--logical-date') : undefined,
        runId: o.runId,
      };
      const problem = o.idempotencyKey === undefined ? null : idempotencyKeyProblem(o.idempotencyKey);
      if (problem) throw new UsageError(`--idempotency-key: ${problem}`);
      await withDb(cmd, async (d, json) => {
        const { created, ...run } = o.idempotencyKey === undefined
          ? await triggerDag(d, dagId, asked)
          : await triggerDagWithKey(d, dagId, asked, o.idempotencyKey, '--idempotency-key');
        if (json) printJson(run);
        else if (created) console.log(`triggered ${dagId}: run ${run.id} (${run.runId}) params ${JSON.stringify(run.params)}`);
        else console.log(`run ${run.id} (${run.runId}) of ${dagId} had been triggered with this idempotency key already; nothing new`);
      });
    });
  for (const [name, paused] of [['pause', true], ['unpause', false]] as const) {
    dags.command(`${name} <dagId>`).description(paused ? 'stop scheduling a DAG' : 'resume scheduling a DAG').action(async (dagId: string, _o, cmd: Command) => {
      await withDb(cmd, async (d, json) => {
        const r = await d.query(sql('cli/dag_set_paused'), [dagId, paused]);
        if (!r.rowCount) throw new UsageError(`unknown DAG id "${dagId}"; see \`keel dags list\``);
        if (json) printJson({ dagId, paused });
        else console.log(`${dagId} ${paused ? 'paused' : 'unpaused'}`);
      });
    });
  }

  const backfill = dags.command('backfill <dagId>').description('create the runs of a DAG\'s past intervals whose logical date is within --from and --to, and watch them (see `keel backfills`)')
    // Not requiredOption: commander would demand them of `dags backfill cancel` too.
    .option('--from <iso>', 'first logical date (included); required')
    .option('--to <iso>', 'last logical date (included); required')
    .addOption(new Option('--reprocess <what>', 'logical dates that already have a finished run: none keeps them, failed runs the failed ones again, all runs every one again').choices([...REPROCESS]).default('none'))
    .option('--max-active-runs <n>', "most runs of the backfill active at once (default: the DAG's maxActiveRuns)")
    .option('--dry-run', 'list the logical dates it would create, clear or skip; store nothing')
    .option('--no-wait', 'return once the backfill is stored instead of showing its progress until it ends')
    .action(async (dagId: string, o: { from?: string; to?: string; reprocess: Reprocess; maxActiveRuns?: string; dryRun?: boolean; wait: boolean }, cmd: Command) => {
      if (o.from === undefined || o.to === undefined) throw new UsageError('dags backfill: give the range with --from <iso> and --to <iso>, e.g. --from 2026-01-01T00:00:00Z --to 2026-01-31T00:00:00Z');
      const req = {
        dagId, from: logicalDate(o.from, '--from'), to: logicalDate(o.to, '--to'), reprocess: o.reprocess, dryRun: o.dryRun, createdBy: actorOf(cmd).actor,
        maxActiveRuns: o.maxActiveRuns === undefined ? undefined : positiveCount(o.maxActiveRuns, '--max-active-runs'),
      };
      await withDb(cmd, async (d, json) => {
        const planned = await createBackfill(d, req);
        if (json) return printJson(planned);
        printPlanned(planned);
        if (planned.id && o.wait) await watchToEnd(d, planned.id);
      });
    });
  backfill.command('cancel <backfillId>').description('cancel a backfill (as `keel backfills cancel`)').action(async (id: string, _o, cmd: Command) => {
    positiveId(id, 'backfill id');
    await withDb(cmd, async (d, json) => printCancelled(await cancelBackfill(d, id, actorOf(cmd)), json));
  });

  const backfills = program.command('backfills').description('backfills: list, progress, cancel (create one with `keel dags backfill`)');
  backfills.command('list').description('backfills with their progress, newest first')
    .option('--dag <dagId>', 'only this DAG')
    .option('--limit <n>', 'how many', '25')
    .action(async (o: { dag?: string; limit: string }, cmd: Command) => {
      const limit = positiveCount(o.limit, '--limit');
      await withDb(cmd, async (d, json) => {
        const rows = await listBackfills(d, { dagId: o.dag ?? null, limit });
        if (json) return printJson(rows);
        print(false, rows.map((b) => ({
          id: b.id, dag_id: b.dagId, state: b.state, from: b.from, to: b.to, reprocess: b.reprocess, max_active: b.maxActiveRuns,
          total: b.total, active: b.active, success: b.success, failed: b.failed, skipped: b.skipped, created_by: b.createdBy, created_at: b.createdAt,
        })), ['id', 'dag_id', 'state', 'from', 'to', 'reprocess', 'max_active', 'total', 'active', 'success', 'failed', 'skipped', 'created_by', 'created_at']);
      });
    });
  backfills.command('show <backfillId>').description('a backfill: its progress and every logical date with its run').action(async (id: string, _o, cmd: Command) => {
    positiveId(id, 'backfill id');
    await withDb(cmd, async (d, json) => {
      const p = await backfillProgress(d, id);
      const dates = await backfillDates(d, id);
      if (json) return printJson({ ...p, dates });
      console.log(`${progressLine(p, null).replace(/, about \? left$/, '')}; ${p.from.toISOString()} to ${p.to.toISOString()}, reprocess ${p.reprocess}, at most ${p.maxActiveRuns} active, by ${p.createdBy}${p.cancelledBy ? `, cancelled by ${p.cancelledBy}` : ''}`);
      print(false, dates.map((x) => ({ logical_date: x.logicalDate, action: x.action, state: x.state, run_id: x.runId ?? '', run_state: x.runState ?? '', reason: x.reason ?? '' })), ['logical_date', 'action', 'state', 'run_id', 'run_state', 'reason']);
    });
  });
  backfills.command('watch <backfillId>').description("a backfill's progress until it ends (Ctrl-C stops watching, not the backfill)").action(async (id: string, _o, cmd: Command) => {
    positiveId(id, 'backfill id');
    await withDb(cmd, async (d) => watchToEnd(d, id));
  });
  backfills.command('cancel <backfillId>').description('cancel a backfill: no more of its runs are created, and its queued and running runs are cancelled (running attempts are stopped); again on a cancelled one, cancels the runs left')
    .action(async (id: string, _o, cmd: Command) => {
      positiveId(id, 'backfill id');
      await withDb(cmd, async (d, json) => printCancelled(await cancelBackfill(d, id, actorOf(cmd)), json));
    });

  const runs = program.command('runs').description('DAG runs');
  runs.command('list').description('recent runs')
    .option('--dag <dagId>', 'only this DAG')
    .addOption(new Option('--state <state>', 'only runs in this state').choices(['queued', 'running', 'success', 'failed']))
    .option('--limit <n>', 'how many', '25')
    .action(async (o: { dag?: string; state?: string; limit: string }, cmd: Command) => {
      const limit = positiveCount(o.limit, '--limit');
      await withDb(cmd, async (d, json) => {
        print(json, (await d.query(sql('cli/runs_list'), [o.dag ?? null, o.state ?? null, limit])).rows, ['id', 'dag_id', 'run_id', 'run_type', 'state', 'logical_date', 'started_at', 'ended_at']);
      });
    });
  runs.command('show <runId>').description('a run, its task instances and its callbacks').action(async (runId: string, _o, cmd: Command) => {
    positiveId(runId, 'run id');
    await withDb(cmd, async (d, json) => {
      const run = (await d.query(sql('cli/dag_run_show'), [runId])).rows[0];
      if (!run) throw new UsageError(`no DAG run with id ${runId}; see \`keel runs list\``);
      const waiting = await whyWaiting(d, runId);
      const tasks = (await d.query(sql('cli/task_instances_of_run'), [runId])).rows.map((t) => ({ ...t, waiting_reason: waiting?.tasks[t.task_id] ?? null }));
      const callbacks = (await d.query(sql('cli/callbacks_of_run'), [runId])).rows;
      if (json) return printJson({ ...run, waiting_reason: waiting?.run ?? null, tasks, callbacks });
      const deadline = run.deadline_at ? `  deadline ${(run.deadline_at as Date).toISOString()}${run.deadline_missed_at ? ' (missed)' : ''}` : '';
      console.log(`run ${run.id}  ${run.dag_id}  ${run.run_id}  ${run.state}  params ${JSON.stringify(run.params)}${deadline}`);
      if (waiting?.run) console.log(`waiting: ${waiting.run}`);
      print(false, tasks.map((t) => ({ ...t, waiting_reason: t.waiting_reason ?? '' })), ['task_id', 'state', 'try_number', 'max_tries', 'started_at', 'ended_at', 'waiting_reason']);
      if (callbacks.length) {
        console.log('callbacks:');
        print(false, callbacks, ['id', 'kind', 'task_id', 'seq', 'state', 'claims', 'ended_at', 'error']);
      }
    });
  });

  runs.command('mark <runId> <state>').description('mark a run success (every task instance) or failed (its unfinished ones); running attempts are stopped')
    .option('--dry-run', 'list what would change, change nothing')
    .action(async (runId: string, state: string, o: { dryRun?: boolean }, cmd: Command) => {
      positiveId(runId, 'run id');
      const to = markState(state);
      await withDb(cmd, async (d, json) => printLifecycle(await markTasks(d, runId, { state: to, taskIds: null, dryRun: o.dryRun }, actorOf(cmd)), json, `mark ${to}`));
    });
  runs.command('cancel <runId>').description('cancel a queued or running run: unfinished tasks fail, running attempts are stopped, the run fails')
    .option('--dry-run', 'list what would change, change nothing')
    .action(async (runId: string, o: { dryRun?: boolean }, cmd: Command) => {
      positiveId(runId, 'run id');
      await withDb(cmd, async (d, json) => printLifecycle(await cancelRun(d, runId, actorOf(cmd), o.dryRun), json, 'cancel'));
    });

  const pools = program.command('pools').description('pools: slots shared by the task instances that name them');
  pools.command('list').description('pools with their slots and the slots queued and running tasks hold').action(async (_o, cmd: Command) => {
    await withDb(cmd, async (d, json) => print(json, (await d.query(sql('api/pools'))).rows, ['name', 'slots', 'running_slots', 'queued_slots', 'description']));
  });
  pools.command('set <name>').description('create a pool or set its slots (tasks waiting for a pool that did not exist are queued from the next scheduler turn)')
    .requiredOption('--slots <n>', 'how many slots (0 holds every task of the pool)')
    .option('--description <text>', 'what the pool is for')
    .action(async (name: string, o: { slots: string; description?: string }, cmd: Command) => {
      const slots = poolSlots(o.slots);
      poolName(name);
      await withDb(cmd, async (d, json) => print(json, (await d.query(sql('api/pool_upsert'), [name, slots, o.description ?? null])).rows, ['name', 'slots', 'description']));
    });

  const tasks = program.command('tasks').description('task instances');
  tasks.command('list <runId>').description('task instances of a run').action(async (runId: string, _o, cmd: Command) => {
    positiveId(runId, 'run id');
    await withDb(cmd, async (d, json) => {
      print(json, (await d.query(sql('cli/task_instances_of_run'), [runId])).rows, ['id', 'task_id', 'state', 'try_number', 'max_tries', 'pool', 'queue', 'started_at', 'ended_at', 'error']);
    });
  });
  tasks.command('logs <runId> <taskId>').description("a task's logs, every try or one")
    .option('--try <n>', 'only this try')
    .action(async (runId: string, taskId: string, o: { try?: string }, cmd: Command) => {
      positiveId(runId, 'run id');
      if (o.try !== undefined) positiveCount(o.try, '--try');
      await withDb(cmd, async (d, json) => {
        const rows = (await d.query(sql('cli/task_attempt_logs'), [runId, taskId, o.try ?? null])).rows;
        if (json) return printJson(rows);
        if (!rows.length) throw new UsageError(`no attempts of task "${taskId}" in run ${runId}${o.try ? ` for try ${o.try}` : ''}`);
        for (const a of rows) {
          console.log(`--- try ${a.try_number}, attempt ${a.attempt_id}, ${a.state} on ${a.hostname}, ${a.started_at.toISOString()} → ${a.ended_at?.toISOString() ?? 'running'}`);
          process.stdout.write(a.log);
        }
      });
    });
  addLocalTestCommands(dags, tasks, optionsFrom);
  const selection = (c: Command) => c
    .option('--downstream', 'also every task downstream of the named ones')
    .option('--upstream', 'also every task upstream of the named ones')
    .option('--recursive', 'grow the selection both ways until closed')
    .option('--dry-run', 'list what would change, change nothing');
  selection(tasks.command('clear <runId> [taskIds...]').description('run task instances again (all of the run when none named); the run goes back to running'))
    .option('--only-failed', 'only the failed and upstream_failed ones')
    .action(async (runId: string, taskIds: string[], o: SelectionFlags & { onlyFailed?: boolean }, cmd: Command) => {
      positiveId(runId, 'run id');
      await withDb(cmd, async (d, json) => {
        const r = await clearTasks(d, runId, { taskIds, downstream: o.downstream, upstream: o.upstream, recursive: o.recursive, onlyFailed: o.onlyFailed, dryRun: o.dryRun }, actorOf(cmd));
        printLifecycle(r, json, 'clear', { cleared: r.tasks.map((t) => t.taskId) });
      });
    });
  selection(tasks.command('mark <runId> <state> <taskIds...>').description('mark task instances success or failed (a running attempt is stopped)'))
    .action(async (runId: string, state: string, taskIds: string[], o: SelectionFlags, cmd: Command) => {
      positiveId(runId, 'run id');
      const to = markState(state);
      await withDb(cmd, async (d, json) => {
        printLifecycle(await markTasks(d, runId, { state: to, taskIds, downstream: o.downstream, upstream: o.upstream, recursive: o.recursive, dryRun: o.dryRun }, actorOf(cmd)), json, `mark ${to}`);
      });
    });

  program.command('audit').description("the operators' clears, marks and cancels, newest first")
    .option('--run <runId>', 'only this run')
    .option('--dag <dagId>', 'only this DAG')
    .option('--limit <n>', 'how many', '50')
    .action(async (o: { run?: string; dag?: string; limit: string }, cmd: Command) => {
      if (o.run !== undefined) positiveId(o.run, '--run');
      const limit = positiveCount(o.limit, '--limit');
      await withDb(cmd, async (d, json) => {
        print(json, await listAudit(d, { runId: o.run ?? null, dagId: o.dag ?? null, limit }), ['at', 'actor', 'action', 'dag_id', 'dag_run_id', 'task_id', 'from_state', 'to_state', 'try_number']);
      });
    });

  const events = program.command('events').description('external events that resume deferred tasks waiting on triggers.external(key)');
  events.command('post <key>').description('post an event; tasks waiting on this key resume with the payload')
    .option('--payload <json>', 'the event payload (any JSON value)', 'null')
    .option('--event-id <id>', 'idempotency id: posting the same id again changes nothing (default: a new UUID)')
    .action(async (key: string, o: { payload: string; eventId?: string }, cmd: Command) => {
      const payload = parseJson(o.payload, '--payload', '{"ok": true}');
      await withDb(cmd, async (d, json) => {
        const e = await postExternalEvent(d, key, payload, o.eventId);
        if (json) printJson(e);
        else console.log(e.created ? `posted event ${e.eventId} with key "${key}"` : `event ${e.eventId} had been posted already; nothing changed`);
      });
    });
  const triggersCmd = program.command('triggers').description('triggers of deferred tasks');
  triggersCmd.command('list').description('triggers, newest first')
    .option('--limit <n>', 'how many', '50')
    .addOption(new Option('--state <state>', 'only this state').choices(['waiting', 'fired', 'timed_out', 'failed', 'cancelled']))
    .action(async (o: { limit: string; state?: string }, cmd: Command) => {
      const limit = positiveCount(o.limit, '--limit');
      await withDb(cmd, async (d, json) => {
        print(json, (await d.query(sql('cli/triggers_list'), [limit, o.state ?? null])).rows,
          ['id', 'state', 'dag_id', 'run_id', 'task_id', 'kind', 'holder_count', 'created_at', 'fired_at']);
      });
    });

  const users = program.command('users').description('users of the web UI and REST API');
  const passwordOptions = (c: Command) => c
    .option('--password-file <file>', 'read the password from this file (one line)')
    .option('--password-stdin', 'read the password from standard input, e.g. from a secret manager');
  passwordOptions(users.command('create').description('create a user (the first one should be an admin); the password comes from a file or standard input, never the command line')
    .requiredOption('--username <name>', 'login name'))
    .addOption(new Option('--role <role>', 'what the user may do').choices([...USER_ROLES]).default('viewer'))
    .action(async (o: { username: string; passwordFile?: string; passwordStdin?: boolean; role: string }, cmd: Command) => {
      const password = readPassword(o);
      await withDb(cmd, async (d, json) => {
        const user = await createUser(d, o.username, password, o.role);
        if (json) printJson(user);
        else console.log(`created ${user.role} ${user.username}; log in to the web UI (${webUrl(optionsFrom(cmd), optionsFrom(cmd).apiPort)}) with this name and password`);
      });
    });
  users.command('list').description('users with their role, whether disabled and their live API tokens').action(async (_o, cmd: Command) => {
    await withDb(cmd, async (d, json) => {
      print(json, (await listUsers(d)) as unknown as Record<string, unknown>[], ['id', 'username', 'role', 'disabled', 'live_tokens', 'created_at', 'disabled_at']);
    });
  });
  const changes: { name: string; description: string; change: (d: Database, username: string, arg?: string) => Promise<unknown>; done: (username: string) => string }[] = [
    { name: 'set-role <username> <role>', description: "change a user's role (its sessions and tokens keep working, with the new role)", change: (d, u, role) => setUserRole(d, u, role!), done: (u) => `changed the role of ${u}` },
    { name: 'disable <username>', description: 'disable a user: it cannot log in, and its sessions and API tokens end', change: (d, u) => setUserDisabled(d, u, true), done: (u) => `disabled ${u}; its sessions and API tokens ended` },
    { name: 'enable <username>', description: 'enable a disabled user again (its old sessions and tokens stay ended)', change: (d, u) => setUserDisabled(d, u, false), done: (u) => `enabled ${u}` },
    { name: 'end-sessions <username>', description: 'end every browser session and API token of a user, on every API copy at once', change: (d, u) => endUserSessions(d, u), done: (u) => `ended every session and API token of ${u}` },
  ];
  for (const c of changes) {
    // Commander passes the arguments, then the options and the command.
    users.command(c.name).description(c.description).action(async (...args: unknown[]) => {
      const [username, arg] = args.slice(0, -2) as [string, string | undefined];
      await withDb(args.at(-1) as Command, async (d, json) => {
        const r = await c.change(d, username, arg);
        if (json) printJson(r);
        else console.log(c.done(username));
      });
    });
  }
  passwordOptions(users.command('set-password <username>').description("change a user's password (from a file or standard input); its browser sessions end"))
    .action(async (username: string, o: { passwordFile?: string; passwordStdin?: boolean }, cmd: Command) => {
      const password = readPassword(o);
      await withDb(cmd, async (d, json) => {
        const user = await setUserPassword(d, username, password);
        if (json) printJson(user);
        else console.log(`changed the password of ${user.username}; its browser sessions ended`);
      });
    });
  users.command('token').description('create an API token for a user (printed once; send it as Authorization: Bearer <token>)')
    .requiredOption('--username <name>', 'whose token')
    .option('--name <name>', 'what the token is for', 'cli')
    .option('--lifetime <sec>', 'seconds until it expires (default: apiTokenDefaultLifetimeSec; at most apiTokenMaxLifetimeSec)')
    .addOption(new Option('--role <role>', "the token's role, at most the user's (default: the user's)").choices([...USER_ROLES]))
    .action(async (o: { username: string; name: string; lifetime?: string; role?: UserRole }, cmd: Command) => {
      const options = optionsFrom(cmd);
      const lifetime = o.lifetime === undefined ? null : positiveCount(o.lifetime, '--lifetime', options.apiTokenMaxLifetimeSec);
      await withDb(cmd, async (d, json) => {
        const limits = { defaultSec: options.apiTokenDefaultLifetimeSec, maxSec: options.apiTokenMaxLifetimeSec };
        const t = await createToken(d, o.username, o.name, lifetime, { role: o.role, limits });
        if (json) printJson(t);
        else console.log(t.token);
      });
    });
  users.command('tokens').description("API tokens (never the token itself): one user's, or everyone's")
    .option('--username <name>', 'whose tokens (default: every user\'s)')
    .action(async (o: { username?: string }, cmd: Command) => {
      await withDb(cmd, async (d, json) => {
        const tokens = await listTokens(d, o.username === undefined ? null : await userIdOf(d, o.username));
        print(json, tokens as unknown as Record<string, unknown>[], ['id', 'username', 'name', 'role', 'parent_id', 'created_at', 'expires_at', 'last_used_at', 'expired']);
      });
    });
  users.command('revoke-token <tokenId>').description('revoke an API token and the tokens made with it (see `users tokens` for ids): every API copy refuses them from the next request on')
    .action(async (tokenId: string, _o, cmd: Command) => {
      positiveId(tokenId, 'token id');
      await withDb(cmd, async (d, json) => {
        const revoked = await revokeToken(d, tokenId, null);
        if (!revoked) throw new UsageError(`token id: no API token ${tokenId}; see \`keel users tokens\``);
        if (json) printJson(revoked);
        else console.log(`revoked token ${revoked.id} "${revoked.name}" of ${revoked.username}`);
      });
    });

  const ha = program.command('ha').description('high availability: components and events');
  ha.command('status').description('every component with role, host, heartbeat age, state and what it holds; the database').action(async (_o, cmd: Command) => {
    await withDb(cmd, async (d, json) => {
      const components = (await d.query(sql('cli/ha_components'))).rows;
      const database = (await d.query(sql('cli/ha_database'))).rows[0];
      const server = await readDatabaseStatus(d, { events: 5 });
      if (json) return printJson({ database: { ...database, ...server }, components });
      console.log(`database: ${database.role}, PostgreSQL ${database.version}, up since ${database.server_started_at.toISOString()}, last disruption ${database.last_disruption_at instanceof Date && Number.isFinite(database.last_disruption_at.getTime()) ? database.last_disruption_at.toISOString() : 'never'}`);
      printDatabaseStatus(server);
      const holds = (c: { role: string; running_attempts: number; file_leases: number; triggers_held: number }) => [
        c.role === 'worker' || c.role === 'standalone' ? `${c.running_attempts} attempt(s)` : '',
        c.role === 'dag-processor' || c.role === 'standalone' ? `${c.file_leases} file lease(s)` : '',
        c.role === 'triggerer' || c.role === 'standalone' ? `${c.triggers_held} trigger(s)` : '',
      ].filter(Boolean).join(', ');
      print(false, components.map((c) => ({ ...c, holds: holds(c), db: componentDbView(c.details) })),
        ['role', 'hostname', 'pid', 'state', 'heartbeat_age_sec', 'holds', 'db', 'started_at', 'id', 'fence_reason']);
    });
  });
  ha.command('audit').description('the deployment as Keel sees it: copies per role, node and zone, the database topology (replicas; Patroni and etcd when configured), each single point of failure, and whether the workers keep up without their largest node (N+1) or two (N+2); exit 1 on a single point of failure, so it can gate a deployment')
    .option('--window <duration>', 'the load to check capacity against: the last 30m, 1h, 1d, …', '1h')
    .action(async (o: { window: string }, cmd: Command) => {
      let windowSec: number;
      try {
        windowSec = parseDuration(o.window);
      } catch (err) {
        throw new UsageError(`--window: ${(err as Error).message}`);
      }
      if (!(windowSec >= 60 && windowSec <= 30 * 86400)) throw new UsageError(`--window must be from 1m to 30d, got "${o.window}"`);
      const options = optionsFrom(cmd);
      await withDb(cmd, async (d, json) => {
        const report = await runAudit(d, options, windowSec);
        if (json) printJson(report);
        else printAudit(report);
        if (!report.ok) process.exitCode = 1;
      });
    });
  ha.command('diagnose').description("why a failover did not happen or did not finish: the database this process reaches, its replicas, Patroni (KEEL_PATRONI_URLS) and etcd (KEEL_ETCD_ENDPOINTS), components on an old primary, leases nobody acts on; each finding with the command that fixes it; exit 1 when anything is found")
    .action(async (_o, cmd: Command) => {
      // Fast: a database that does not answer is a finding, not a reason to wait.
      const options = { ...optionsFrom(cmd), dbConnectRetrySec: 3, dbRetryDeadlineMs: 2000 };
      const log = createLogger({ level: 'error', format: options.logFormat });
      let database: Database | null = null;
      let dbError: string | null = null;
      try {
        database = await openDatabase(options, log, 'cli');
      } catch (err) {
        dbError = (err as Error).message;
      }
      try {
        const findings = await runDiagnosis(database, dbError, options);
        if (cmd.optsWithGlobals<GlobalFlags>().json) printJson({ ok: findings.length === 0, findings });
        else if (findings.length === 0) console.log('nothing found: the database, its replicas and every component agree on one primary');
        else for (const f of findings) console.log(`- ${f.problem}
  fix: ${f.fix}`);
        if (findings.length > 0) process.exitCode = 1;
      } finally {
        await database?.close();
      }
    });
  ha.command('fence [componentIds...]').description("fence components by hand (a host partitioned or misbehaving but alive): they take no more work and never rejoin; their running attempts are fenced and retried now, their triggers and DAG-file leases freed for the other copies")
    .option('--host <hostname>', 'every component on this host')
    .requiredOption('--reason <text>', 'why: shown by the fenced process, `ha events` and `ha status`')
    .option('--dry-run', 'list what would be fenced, change nothing')
    .action(async (componentIds: string[], o: { host?: string; reason: string; dryRun?: boolean }, cmd: Command) => {
      await withDb(cmd, async (d, json) => {
        const r = await fenceComponents(d, { componentIds, hostname: o.host ?? null, reason: o.reason, actor: actorOf(cmd).actor, dryRun: o.dryRun });
        if (json) return printJson(r);
        console.log(`${r.dryRun ? 'would fence' : 'fenced'} ${r.components.length} component(s):`);
        print(false, r.components as unknown as Record<string, unknown>[], ['role', 'hostname', 'pid', 'id']);
        console.log(`${r.attempts.length} running attempt(s) ${r.dryRun ? 'would be fenced' : 'fenced'}${r.attempts.length ? ':' : ''}`);
        if (r.attempts.length) print(false, r.attempts as unknown as Record<string, unknown>[], ['dagRunId', 'taskId', 'attemptId', 'next']);
        if (!r.dryRun) console.log(`${r.triggersReleased} trigger(s) and ${r.dagFilesReleased.length} DAG-file lease(s) freed; restart the fenced processes to bring them back as new components`);
      });
    });
  addBackupCommands(program, optionsFrom);
  const printNotice = (json: boolean, n: OperatorNotice) => {
    if (json) return printJson(n);
    console.log(n.maintenance ? `maintenance: on since ${n.maintenanceSince?.toISOString()}${n.maintenanceMessage ? ` — ${n.maintenanceMessage}` : ''}` : 'maintenance: off');
    console.log(n.announcement ? `announcement: ${n.announcement}` : 'announcement: (none)');
  };
  const maintenance = program.command('maintenance').description('maintenance mode: schedulers create and queue nothing, workers finish what they run, the API keeps serving and shows the message');
  maintenance.command('on').description('turn maintenance mode on')
    .requiredOption('--message <text>', 'what users see in the API and the UI banner')
    .action(async (o: { message: string }, cmd: Command) => {
      if (!o.message.trim()) throw new UsageError('--message: give the text users should see (e.g. "database upgrade until 14:00 UTC")');
      await withDb(cmd, async (d, json) => printNotice(json, await setMaintenance(d, true, o.message.trim())));
    });
  maintenance.command('off').description('turn maintenance mode off: scheduling resumes').action(async (_o, cmd: Command) => {
    await withDb(cmd, async (d, json) => printNotice(json, await setMaintenance(d, false, null)));
  });
  maintenance.command('status').description('whether maintenance mode is on, and the announcement').action(async (_o, cmd: Command) => {
    await withDb(cmd, async (d, json) => printNotice(json, await readOperatorNotice(d)));
  });
  program.command('announce [text]').description('show an announcement banner in the API and the UI (no text with --clear removes it)')
    .option('--clear', 'remove the announcement')
    .action(async (text: string | undefined, o: { clear?: boolean }, cmd: Command) => {
      if (!o.clear && !text?.trim()) throw new UsageError('announce: give the text, or --clear to remove the announcement');
      if (o.clear && text) throw new UsageError('announce: give the text or --clear, not both');
      await withDb(cmd, async (d, json) => printNotice(json, await setAnnouncement(d, o.clear ? null : text!.trim())));
    });
  ha.command('events').description('recent HA events, newest first')
    .option('--limit <n>', 'how many', '50')
    .option('--kind <kind>', 'only this kind (zombie_fenced, late_write_rejected, component_dead, failover_detected, …)')
    .action(async (o: { limit: string; kind?: string }, cmd: Command) => {
      const limit = positiveCount(o.limit, '--limit');
      await withDb(cmd, async (d, json) => {
        print(json, (await d.query(sql('cli/ha_events'), [limit, o.kind ?? null])).rows, ['id', 'at', 'kind', 'role', 'hostname', 'details']);
      });
    });

  program.command('health').description('exit 0 when healthy, 1 otherwise (for probes and scripts): with --role, at least one healthy component of the role; without, every role runs needs (scheduler, worker, dag-processor) has one')
    .addOption(new Option('--role <role>', 'role to check').choices([...HEALTH_ROLES]))
    .action(async (o: { role?: string }, cmd: Command) => {
      const options = optionsFrom(cmd);
      await withDb(cmd, async (d, json) => {
        const roles = o.role ? [o.role] : [...HEALTH_ROLES];
        const healthy = await Promise.all(roles.map(async (role) => ({
          role, required: o.role !== undefined || REQUIRED_ROLES.includes(role),
          healthy: (await d.query(sql('cli/component_healthy_of_role'), [role, options.componentDeadAfterSec])).rows,
        })));
        const ok = healthy.every((h) => !h.required || h.healthy.length > 0);
        if (json) printJson(o.role ? { role: o.role, healthy: healthy[0]!.healthy } : { healthy: ok, roles: healthy });
        else {
          for (const h of healthy) {
            console.log(h.healthy.length
              ? `${h.healthy.length} healthy ${h.role}(s): ${h.healthy.map((r) => `${r.role === 'standalone' ? 'standalone ' : ''}${r.hostname}/${r.pid}`).join(', ')}`
              : `no healthy ${h.role}${h.required ? '' : ' (not needed by every DAG)'}`);
          }
        }
        if (!ok) process.exitCode = 1;
      });
    });

  program.command('chaos').description('start a cluster of real processes, drive DAG runs, kill and freeze processes at random, then check the books')
    .option('--duration <time>', `length of the fault phase: seconds or 90s, 10m, 2h (at most ${CHAOS_MAX_DURATION_SEC / 3600}h)`, '60s')
    .option('--schedulers <n>', 'scheduler processes', '3')
    .option('--workers <n>', 'worker processes', '3')
    .option('--triggerers <n>', 'triggerer processes (with any, the workload defers tasks and runs sensors)', '2')
    .option('--processors <n>', 'DAG processor processes (with two or more, they are faulted too)', '2')
    .option('--fault-every <sec>', 'mean seconds between faults', '4')
    .option('--freeze-share <0..1>', 'share of faults that freeze (SIGSTOP past the lease) instead of kill', '0.25')
    .option('--lease <sec>', 'attempt lease of the cluster', '5')
    .option('--trigger-every <sec>', 'mean seconds between triggered runs', '0.5')
    .option('--max-runs <n>', 'most runs to trigger', '1000')
    .option('--settle <time>', 'longest wait for the last runs after the fault phase: seconds or 90s, 10m (at most 2h)', '120s')
    .option('--seed <n>', 'seed of the fault and workload schedule', String(Date.now() % 100000))
    .action(async (o: Record<string, string>, cmd: Command) => {
      const num = (name: string, min: number, max = Infinity) => {
        const v = Number(o[name]);
        if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a number between ${min} and ${max}, got "${o[name]}"`);
        return v;
      };
      const g = cmd.optsWithGlobals<GlobalFlags>();
      const options = optionsFrom(cmd);
      const log = createLogger({ level: options.logLevel, format: options.logFormat, name: 'chaos' });
      const result = await runChaos({
        databaseUrl: g.databaseUrl, durationSec: durationFlag(o.duration!, '--duration', 5, CHAOS_MAX_DURATION_SEC), schedulers: num('schedulers', 1, 20), workers: num('workers', 1, 20),
        triggerers: num('triggerers', 0, 20), dagProcessors: num('processors', 1, 20),
        faultEverySec: num('faultEvery', 0.5), freezeShare: num('freezeShare', 0, 1), leaseSec: num('lease', 2), triggerEverySec: num('triggerEvery', 0.05),
        maxRuns: num('maxRuns', 1), settleTimeoutSec: durationFlag(o.settle!, '--settle', 10, 7200), seed: num('seed', 0), log,
      });
      if (g.json) printJson(result);
      else printChaosSummary(result);
      if (result.report.violations.length) process.exitCode = 1;
    });

  program.command('config').description('the effective configuration, or the configuration reference (docs/configuration.md)')
    .option('--markdown', 'print the configuration reference as Markdown')
    .action((o: { markdown?: boolean }, cmd: Command) => {
      if (o.markdown) {
        process.stdout.write(configurationMarkdown());
        return;
      }
      const options = optionsFrom(cmd);
      printJson({ ...options, databaseUrl: options.databaseUrl && redactUrl(options.databaseUrl), redisUrl: options.redisUrl && redactUrl(options.redisUrl), secretKey: options.secretKey && '***' });
    });
  return program;
}

function printPlanned(p: BackfillPlanned): void {
  const count = (a: string) => p.dates.filter((x) => x.action === a).length;
  const head = `${p.dates.length} logical date(s) of ${p.dagId} from ${p.from.toISOString()} to ${p.to.toISOString()}: ${count('create')} to create, ${count('clear')} to clear, ${count('skip')} skipped; at most ${p.maxActiveRuns} active at once`;
  console.log(p.dryRun ? `dry run, nothing stored: ${head}` : `backfill ${p.id}: ${head}`);
  if (p.dryRun) print(false, p.dates.map((x) => ({ logical_date: x.logicalDate, action: x.action, run_id: x.runId ?? '', reason: x.reason ?? '' })), ['logical_date', 'action', 'run_id', 'reason']);
  if (p.dagPaused) console.log(`note: ${p.dagId} is paused; the backfill makes no run until it is unpaused (\`keel dags unpause ${p.dagId}\`)`);
}

function printCancelled(c: CancelledBackfill, json: boolean): void {
  if (json) return printJson(c);
  console.log(`${c.cancelledNow ? 'cancelled' : 'was already cancelled:'} backfill ${c.id} (${c.dagId}); ${c.cancelledRuns.length} active run(s) cancelled${c.cancelledRuns.length ? `: ${c.cancelledRuns.join(', ')}` : ''}`);
}

/** Shows a backfill's progress until it ends; exit code 1 when a run failed or it was cancelled, 130 on Ctrl-C. */
async function watchToEnd(d: Database, id: string): Promise<void> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  let p: BackfillProgress;
  try {
    p = await watchBackfill(d, id, { tty: Boolean(process.stdout.isTTY), signal: stop.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (stop.signal.aborted) {
    console.log(`\nstopped watching; backfill ${id} goes on (\`keel backfills watch ${id}\`, \`keel backfills cancel ${id}\`)`);
    process.exitCode = 130;
    return;
  }
  // Off a terminal the last plain line already said it.
  if (process.stdout.isTTY) console.log(progressLine(p, null));
  if (p.failed > 0 || p.state === 'cancelled') process.exitCode = 1;
}

const HEALTH_ROLES = ['scheduler', 'worker', 'dag-processor', 'triggerer', 'api'] as const;
/** Without them no run moves; a triggerer only serves deferred tasks and an api only its clients. */
const REQUIRED_ROLES: readonly string[] = ['scheduler', 'worker', 'dag-processor'];

function describeSchedule(s: { kind: string; expression?: string; timezone?: string; seconds?: number }): string {
  if (s.kind === 'cron') return `${s.expression}${s.timezone && s.timezone !== 'UTC' ? ` (${s.timezone})` : ''}`;
  if (s.kind === 'interval') return `every ${s.seconds}s`;
  return 'manual';
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      return 2;
    }
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    console.error(`error: ${(err as Error).message ?? err}`);
    return 1;
  }
}

// Exit explicitly: a finished command must not linger on an idle pool or timer.
process.exit(await main(process.argv));
