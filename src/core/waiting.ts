// Why a run or a task instance is not moving: the one sentence `keel runs show`, the API and
// the UI print next to it, so that nothing waits silently. Pure: fed the facts one read of
// the database gives (src/runs/waiting.ts), it restates the scheduler's and the workers'
// own conditions (src/runs/run-steps.ts, src/core/queueing.ts, the claim) in words.
import { isFinal } from './task-state.js';
import type { RunState, TaskState } from './types.js';

export interface RunWaitFacts {
  runState: RunState;
  dagId: string;
  dagPaused: boolean;
  maintenance: boolean;
  maintenanceMessage: string | null;
  maxActiveRuns: number;
  /** Runs of the DAG in state running. */
  runningRunsOfDag: number;
  /** Queued runs of the DAG with an earlier logical date: they start first. */
  queuedRunsBefore: number;
  maxActiveTasks: number;
  /** Task instances of this run queued or running. */
  activeTasksOfRun: number;
}

export interface TaskWaitFacts {
  taskId: string;
  state: TaskState;
  upstream: readonly string[];
  pool: string;
  poolSlots: number;
  /** null: no pool of that name exists. */
  poolTotalSlots: number | null;
  /** Slots of the pool held by queued or running task instances. */
  poolUsedSlots: number;
  queue: string;
  /** Live workers whose queues include this task's queue. */
  workersOnQueue: number;
  /** Their free slots (capacity minus running attempts). */
  freeWorkerSlotsOnQueue: number;
  /** Queues that live workers serve. */
  servedQueues: readonly string[];
  nextRetryAt: Date | null;
  tryNumber: number;
  maxTries: number;
}

export interface WaitReasons {
  run: string | null;
  /** By task id; only task instances that wait. */
  tasks: Record<string, string>;
}

const FINAL_RUN: readonly RunState[] = ['success', 'failed'];

function runReason(r: RunWaitFacts): string | null {
  if (FINAL_RUN.includes(r.runState)) return null;
  if (r.maintenance) return `maintenance mode is on${r.maintenanceMessage ? ` (${r.maintenanceMessage})` : ''}: schedulers start and queue nothing until \`keel maintenance off\``;
  if (r.dagPaused) return `DAG "${r.dagId}" is paused: nothing of this run is scheduled or queued until \`keel dags unpause ${r.dagId}\``;
  if (r.runState === 'queued') {
    if (r.runningRunsOfDag >= r.maxActiveRuns) return `waiting for a run slot: ${r.runningRunsOfDag} of the DAG's maxActiveRuns ${r.maxActiveRuns} runs are running`;
    if (r.queuedRunsBefore > 0) return `waiting for ${r.queuedRunsBefore} queued run(s) with an earlier logical date to start first`;
    return 'waiting for a scheduler to start it';
  }
  return null;
}

function taskReason(t: TaskWaitFacts, r: RunWaitFacts, stateOf: ReadonlyMap<string, TaskState>): string | null {
  switch (t.state) {
    case 'pending': {
      const open = t.upstream.filter((u) => {
        const s = stateOf.get(u);
        return s !== undefined && !isFinal(s);
      });
      return open.length > 0 ? `waiting for upstream ${open.map((u) => `${u} (${stateOf.get(u)})`).join(', ')}` : 'waiting for a scheduler to check its upstream tasks';
    }
    case 'scheduled':
      if (t.poolTotalSlots === null) return `pool "${t.pool}" does not exist: create it (\`keel pools set ${t.pool} --slots N\`, PUT /api/v1/pools/${t.pool} or the UI's Pools page) or name an existing pool in the task`;
      if (t.poolSlots > t.poolTotalSlots) return `needs ${t.poolSlots} slots of pool "${t.pool}", which has only ${t.poolTotalSlots}: raise the pool's slots or the task's poolSlots`;
      if (t.poolTotalSlots - t.poolUsedSlots < t.poolSlots) return `pool "${t.pool}" is full: ${t.poolUsedSlots} of ${t.poolTotalSlots} slots in use, the task needs ${t.poolSlots}`;
      if (r.activeTasksOfRun >= r.maxActiveTasks) return `the run has ${r.activeTasksOfRun} task instances queued or running, its maxActiveTasks is ${r.maxActiveTasks}`;
      return 'waiting for a scheduler to queue it';
    case 'queued':
      if (t.workersOnQueue === 0) {
        const served = t.servedQueues.length > 0 ? `live workers serve ${t.servedQueues.map((q) => `"${q}"`).join(', ')}` : 'no worker is alive';
        return `no live worker takes queue "${t.queue}" (${served}): start one with --queues ${t.queue} (KEEL_WORKER_QUEUES)`;
      }
      if (t.freeWorkerSlotsOnQueue <= 0) return `every slot of the ${t.workersOnQueue} worker(s) on queue "${t.queue}" is busy`;
      return `waiting for a worker on queue "${t.queue}" to claim it`;
    case 'up_for_retry':
      return `try ${t.tryNumber} of ${t.maxTries} failed; the next try is due${t.nextRetryAt ? ` at ${t.nextRetryAt.toISOString()}` : ''}`;
    case 'deferred':
      return 'deferred: waiting on its trigger in a triggerer (see `keel triggers list`)';
    default:
      return null;
  }
}

/** The run's reason and each waiting task instance's; a run-wide hold (maintenance, pause) is given once, for the run. */
export function explainWaiting(run: RunWaitFacts, tasks: readonly TaskWaitFacts[]): WaitReasons {
  const runWhy = runReason(run);
  const out: WaitReasons = { run: runWhy, tasks: {} };
  if (FINAL_RUN.includes(run.runState)) return out;
  const stateOf = new Map(tasks.map((t) => [t.taskId, t.state]));
  // Held run-wide: only the tasks that the hold does not stop (a worker still claims what is queued) get their own reason.
  const held = runWhy !== null;
  for (const t of tasks) {
    if (held && t.state !== 'queued' && t.state !== 'deferred') continue;
    const why = taskReason(t, run, stateOf);
    if (why) out.tasks[t.taskId] = why;
  }
  return out;
}
