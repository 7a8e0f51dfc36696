// Reads what a run's progress depends on and says why it, or each of its task instances,
// waits (src/core/waiting.ts). One place for `keel runs show`, the API and the UI.
import { explainWaiting, type WaitReasons } from '../core/waiting.js';
import type { RunState, SerializedTask, TaskState } from '../core/types.js';
import type { Queryable } from '../db/queryable.js';
import { sql } from '../db/sql.js';

interface RunRow {
  run_state: RunState; dag_id: string; dag_paused: boolean; maintenance: boolean; maintenance_message: string | null;
  max_active_runs: number; max_active_tasks: number; running_runs_of_dag: number; queued_runs_before: number;
  active_tasks_of_run: number; tasks: Pick<SerializedTask, 'taskId' | 'upstream'>[] | null;
}

interface TaskRow {
  task_id: string; state: TaskState; pool: string; pool_slots: number; queue: string; next_retry_at: Date | null;
  try_number: number; max_tries: number; pool_total_slots: number | null; pool_used_slots: number;
  workers_on_queue: number; free_worker_slots_on_queue: number; served_queues: string[];
}

/** Why the run and its task instances wait; null when there is no such run. */
export async function whyWaiting(db: Queryable, runId: string | number): Promise<WaitReasons | null> {
  const run = (await db.query<RunRow>(sql('runs/waiting_run'), [runId])).rows[0];
  if (!run) return null;
  const tasks = (await db.query<TaskRow>(sql('runs/waiting_tasks'), [runId])).rows;
  const upstreamOf = new Map((run.tasks ?? []).map((t) => [t.taskId, t.upstream]));
  return explainWaiting(
    {
      runState: run.run_state, dagId: run.dag_id, dagPaused: run.dag_paused, maintenance: run.maintenance,
      maintenanceMessage: run.maintenance_message, maxActiveRuns: run.max_active_runs, runningRunsOfDag: run.running_runs_of_dag,
      queuedRunsBefore: run.queued_runs_before, maxActiveTasks: run.max_active_tasks, activeTasksOfRun: run.active_tasks_of_run,
    },
    tasks.map((t) => ({
      taskId: t.task_id, state: t.state, upstream: upstreamOf.get(t.task_id) ?? [], pool: t.pool, poolSlots: t.pool_slots,
      poolTotalSlots: t.pool_total_slots, poolUsedSlots: t.pool_used_slots, queue: t.queue, workersOnQueue: t.workers_on_queue,
      freeWorkerSlotsOnQueue: t.free_worker_slots_on_queue, servedQueues: t.served_queues, nextRetryAt: t.next_retry_at,
      tryNumber: t.try_number, maxTries: t.max_tries,
    })),
  );
}
