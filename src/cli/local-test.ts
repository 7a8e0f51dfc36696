// `keel dags test` and `keel tasks test`: a DAG run or one task in this process, without a
// database (src/runtime/local-test.ts). Exit code 0 when the run ends success, 1 otherwise,
// 2 for bad input (unknown DAG or task, params that fail validation, a broken DAG file).
import type { Command } from 'commander';
import type { KeelOptions } from '../config/options.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { localTest, type LocalTestResult } from '../runtime/local-test.js';
import { logicalDate, parseJsonObject, positiveCount } from './inputs.js';
import { printJson, printTable } from './output.js';

interface LocalFlags {
  params?: string;
  logicalDate?: string;
  file?: string;
  upstream?: string;
  retryDelay: boolean;
  concurrency: string;
}

function localOptions(c: Command): Command {
  return c
    .option('--params <json>', 'run params as a JSON object (validated against the DAG\'s params)')
    .option('--logical-date <iso>', 'logical date (default: now)')
    .option('--file <path>', 'the DAG file, anywhere (default: look in the DAGs folder)')
    .option('--no-retry-delay', 'retry a failed try at once instead of after its retryDelaySec (the number of retries is unchanged)')
    .option('--concurrency <n>', 'tries run at once (at most the DAG\'s maxActiveTasks)', '1');
}

async function run(dagId: string, taskId: string | undefined, o: LocalFlags, cmd: Command, optionsFrom: (cmd: Command) => KeelOptions): Promise<void> {
  const options = optionsFrom(cmd);
  const json = Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
  const input = {
    params: o.params === undefined ? undefined : parseJsonObject(o.params, '--params'),
    upstream: o.upstream === undefined ? undefined : parseJsonObject(o.upstream, '--upstream'),
    logicalDate: o.logicalDate === undefined ? new Date() : logicalDate(o.logicalDate, '--logical-date'),
    concurrency: positiveCount(o.concurrency, '--concurrency', 64),
  };
  if (taskId === undefined && input.upstream !== undefined) throw new UsageError('--upstream belongs to `keel tasks test`');
  const result = await localTest({
    dagId, taskId, file: o.file, dagsFolder: options.dagsFolder, ...input, noRetryDelay: !o.retryDelay,
    dagFileTimeoutSec: options.dagFileTimeoutSec, taskEnvAllow: options.taskEnvAllow, runnerMemoryMb: options.runnerMemoryMb,
    taskResultMaxBytes: options.taskResultMaxBytes, log: createLogger({ level: 'warn', format: options.logFormat }),
    // With --json, stdout holds the result only; the progress goes to stderr.
    out: json ? (line) => process.stderr.write(`${line}\n`) : (line) => console.log(line),
  });
  if (json) printJson(result);
  else printSummary(result);
  if (result.state !== 'success') process.exitCode = 1;
}

function printSummary(r: LocalTestResult): void {
  console.log('');
  printTable(r.tasks.map((t) => ({
    task_id: t.taskId, state: t.state, try: t.tryNumber === 0 ? '-' : `${t.tryNumber}/${t.maxTries}`, duration: `${(t.durationMs / 1000).toFixed(2)} s`,
    result: t.state === 'success' ? JSON.stringify(t.result)?.slice(0, 60) : (t.error?.split('\n')[0] ?? '').slice(0, 60),
  })), ['task_id', 'state', 'try', 'duration', 'result']);
}

/** Adds `dags test` and `tasks test` to the `dags` and `tasks` commands. */
export function addLocalTestCommands(dags: Command, tasks: Command, optionsFrom: (cmd: Command) => KeelOptions): void {
  localOptions(dags.command('test <dagId>').description('run a whole DAG in this process, without a database, printing each task\'s outcome and log; nothing is stored (exit 0 when the run succeeds, 1 when it fails)'))
    .action((dagId: string, o: LocalFlags, cmd: Command) => run(dagId, undefined, o, cmd, optionsFrom));
  localOptions(tasks.command('test <dagId> <taskId>').description('run one task (its tries, without its upstream tasks) in this process, without a database; nothing is stored (exit 0 on success, 1 on failure)'))
    .option('--upstream <json>', 'results of its upstream tasks as a JSON object by task id, e.g. \'{"extract": {"rows": 5}}\'')
    .action((dagId: string, taskId: string, o: LocalFlags, cmd: Command) => run(dagId, taskId, o, cmd, optionsFrom));
}
