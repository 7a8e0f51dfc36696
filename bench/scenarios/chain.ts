// (b) Latency: a sequential chain of 40 no-op tasks, one run at a time. Total time and the
// time per hop (upstream ended_at → downstream started_at), split into the steps that the
// task_instance timestamps separate.
import { CHAIN_TASKS } from '../dags/chain/chain.js';
import { withScenario, type Resources, type ScenarioContext } from '../lib/harness.js';
import { gap, runTimes, taskTimes, trigger, waitRunsEnded } from '../lib/runs.js';
import { round, sleep, summarize, type Summary } from '../lib/stats.js';

export interface ChainParams {
  runs: number;
  runTimeoutMs: number;
  idleBetweenMs: number;
}

export interface ChainResult {
  runs: number;
  tasks: number;
  states: string[];
  /** Trigger (dag_run.created_at) → last task ended, per run, ms. */
  totalMs: number[];
  total: Summary;
  /** Trigger → the run marked success (one more scheduler turn after the last task). */
  toRunEnd: Summary;
  /** Upstream ended_at → downstream started_at, over every hop of every run. */
  hop: Summary;
  /** The same hops split by timestamp; the four parts add up to the cycle time of one task. */
  hopSteps: {
    /** upstream ended_at → downstream scheduled_at: end commit, NOTIFY, scheduler wakes and examines. */
    endToScheduled: Summary;
    /** scheduled_at → queued_at: examine commits, the queueing transaction starts. */
    scheduledToQueued: Summary;
    /** queued_at → started_at: queueing commits, NOTIFY, the worker's claim. */
    queuedToStarted: Summary;
  };
  /** started_at → ended_at of every task: claim, upstream results, runner IPC, the no-op itself, end transaction begins. */
  taskRun: Summary;
  /** Trigger → first task started, split the same way. */
  firstTask: { total: Summary; runQueued: Summary; runStartedToScheduled: Summary; scheduledToQueued: Summary; queuedToStarted: Summary };
  /** Last task ended → run success. */
  runFinish: Summary;
  /** Mean ms of one task's cycle (hop + run), per step, and each step's share of it. */
  cycle: { step: string; meanMs: number; share: number }[];
}

export async function chain(ctx: ScenarioContext, p: ChainParams): Promise<{ result: ChainResult; resources: Resources | null }> {
  return withScenario(ctx, 'chain', 'chain', ['bench_chain'], async (s) => {
    const warm = await trigger(s.db, 'bench_chain');
    await waitRunsEnded(s.db, [warm.id], p.runTimeoutMs);
    await sleep(p.idleBetweenMs);

    await s.begin();
    const ids: string[] = [];
    for (let i = 0; i < p.runs; i++) {
      const run = await trigger(s.db, 'bench_chain');
      await waitRunsEnded(s.db, [run.id], p.runTimeoutMs, 20);
      ids.push(run.id);
      await sleep(p.idleBetweenMs);
    }
    await s.end();

    const rt = await runTimes(s.db, ids);
    const tt = await taskTimes(s.db, ids);
    const totals: number[] = [];
    const toRunEnd: number[] = [];
    const hop: number[] = [];
    const endToScheduled: number[] = [];
    const scheduledToQueued: number[] = [];
    const queuedToStarted: number[] = [];
    const taskRun: number[] = [];
    const first = { total: [] as number[], runQueued: [] as number[], runStartedToScheduled: [] as number[], scheduledToQueued: [] as number[], queuedToStarted: [] as number[] };
    const runFinish: number[] = [];
    for (const run of rt) {
      const tasks = tt.filter((t) => t.runId === run.id).sort((a, b) => a.taskId.localeCompare(b.taskId));
      const t0 = tasks[0];
      const last = tasks[tasks.length - 1];
      if (!t0 || !last) continue;
      totals.push(gap(run.createdAt, last.endedAt));
      toRunEnd.push(gap(run.createdAt, run.endedAt));
      runFinish.push(gap(last.endedAt, run.endedAt));
      first.total.push(gap(run.createdAt, t0.startedAt));
      first.runQueued.push(gap(run.createdAt, run.startedAt));
      first.runStartedToScheduled.push(gap(run.startedAt, t0.scheduledAt));
      first.scheduledToQueued.push(gap(t0.scheduledAt, t0.queuedAt));
      first.queuedToStarted.push(gap(t0.queuedAt, t0.startedAt));
      for (let i = 0; i < tasks.length; i++) {
        const t = tasks[i]!;
        taskRun.push(gap(t.startedAt, t.endedAt));
        if (i === 0) continue;
        const up = tasks[i - 1]!;
        hop.push(gap(up.endedAt, t.startedAt));
        endToScheduled.push(gap(up.endedAt, t.scheduledAt));
        scheduledToQueued.push(gap(t.scheduledAt, t.queuedAt));
        queuedToStarted.push(gap(t.queuedAt, t.startedAt));
      }
    }
    const steps: [string, number[]][] = [
      ['upstream end → scheduled (end commit + NOTIFY + examine)', endToScheduled],
      ['scheduled → queued (examine commit + queueing tx)', scheduledToQueued],
      ['queued → started (queue commit + NOTIFY + claim)', queuedToStarted],
      ['started → ended (worker + runner + no-op)', taskRun],
    ];
    const means = steps.map(([step, v]) => ({ step, meanMs: summarize(v).mean }));
    const cycleMs = means.reduce((a, m) => a + m.meanMs, 0);
    const result: ChainResult = {
      runs: rt.length, tasks: CHAIN_TASKS, states: rt.map((r) => r.state),
      totalMs: totals.map((v) => round(v, 1)),
      total: summarize(totals), toRunEnd: summarize(toRunEnd), hop: summarize(hop),
      hopSteps: { endToScheduled: summarize(endToScheduled), scheduledToQueued: summarize(scheduledToQueued), queuedToStarted: summarize(queuedToStarted) },
      taskRun: summarize(taskRun),
      firstTask: {
        total: summarize(first.total), runQueued: summarize(first.runQueued), runStartedToScheduled: summarize(first.runStartedToScheduled),
        scheduledToQueued: summarize(first.scheduledToQueued), queuedToStarted: summarize(first.queuedToStarted),
      },
      runFinish: summarize(runFinish),
      cycle: means.map((m) => ({ ...m, share: round(m.meanMs / cycleMs, 3) })),
    };
    return result;
  });
}
