// (a) Throughput: many runs of a DAG of independent no-op tasks, triggered at once;
// end to end from the first trigger to the last task's end, in tasks per second.
import { withScenario, type Resources, type ScenarioContext } from '../lib/harness.js';
import { gap, runTimes, taskTimes, transactionCounts, trigger, waitRunsEnded } from '../lib/runs.js';
import { round, summarize, TimeoutError, waitFor, type Summary } from '../lib/stats.js';
import { FANOUT_TASKS } from '../dags/throughput/fanout.js';

export interface ThroughputParams {
  runs: number;
  timeoutMs: number;
}

export interface ThroughputResult {
  runs: number;
  tasksPerRun: number;
  tasks: number;
  succeeded: number;
  failed: number;
  complete: boolean;
  /** First trigger (dag_run.created_at) → last task ended (task_instance.ended_at), database clock. */
  e2eSec: number;
  tasksPerSec: number;
  /** Median of the tasks ended per whole second between the first and the last task end. */
  medianPerSecond: number;
  perSecond: number[];
  /** Seconds (indexes into perSecond, before the last) with under a quarter of the median completions: the worker stalled. */
  stallSeconds: number[];
  /** From the first trigger until the last task instance reached each state (ms): when each stage had drained. */
  drainedMs: { scheduled: number; queued: number; started: number; ended: number };
  /** Bench clock: the trigger calls themselves (100 transactions through a 10-connection pool). */
  triggerWallMs: number;
  firstTaskStartedMs: number;
  /** Per task instance, the time it spent in each state (ms): where the backlog waits. */
  waitMs: { runQueued: Summary; pendingToScheduled: Summary; scheduledToQueued: Summary; queuedToStarted: Summary; startedToEnded: Summary };
  /** Transactions that moved the task instances, and the mean batch each moved. */
  transactions: { examine: number; queue: number; claim: number; end: number };
  batch: { examine: number; queue: number; claim: number };
}

export async function throughput(ctx: ScenarioContext, p: ThroughputParams): Promise<{ result: ThroughputResult; resources: Resources | null }> {
  return withScenario(ctx, 'throughput', 'throughput', ['bench_fanout'], async (s) => {
    // Warm-up: one run, so that every runner process has imported the DAG file once.
    const warm = await trigger(s.db, 'bench_fanout');
    await waitRunsEnded(s.db, [warm.id], 60_000, 100);

    await s.begin();
    const t0 = performance.now();
    const runs = await Promise.all(Array.from({ length: p.runs }, () => trigger(s.db, 'bench_fanout')));
    const triggerWallMs = performance.now() - t0;
    const ids = runs.map((r) => r.id);
    const expected = p.runs * FANOUT_TASKS;
    ctx.log(`[throughput] ${p.runs} runs × ${FANOUT_TASKS} tasks triggered in ${Math.round(triggerWallMs)} ms; waiting (timeout ${p.timeoutMs / 1000} s)`);
    let complete = true;
    try {
      await waitFor('every task to end', async () => {
        const r = await s.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM task_instance WHERE dag_run_id = ANY($1::bigint[]) AND state IN ('success', 'failed', 'upstream_failed', 'skipped')`, [ids]);
        return r.rows[0]!.n >= expected;
      }, p.timeoutMs, 250);
      await waitRunsEnded(s.db, ids, 30_000, 100);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      complete = false;
      ctx.log(`[throughput] ${err.message}; reporting the tasks done so far`);
    }
    const wallMs = performance.now() - t0;
    await s.end();

    const rt = await runTimes(s.db, ids);
    const tt = await taskTimes(s.db, ids);
    const tx = await transactionCounts(s.db, ids);
    const runById = new Map(rt.map((r) => [r.id, r]));
    const first = Math.min(...rt.map((r) => r.createdAt));
    const ended = tt.filter((t) => t.endedAt !== null && t.state !== 'running');
    const succeeded = tt.filter((t) => t.state === 'success').length;
    const failed = tt.filter((t) => t.state === 'failed' || t.state === 'upstream_failed').length;
    const last = complete ? Math.max(...ended.map((t) => t.endedAt!)) : first + wallMs;
    const e2eMs = last - first;
    // Completions per whole second, from the first task end on.
    const firstEnd = Math.min(...ended.map((t) => t.endedAt!));
    const buckets: number[] = [];
    for (const t of ended) {
      const b = Math.floor((t.endedAt! - firstEnd) / 1000);
      buckets[b] = (buckets[b] ?? 0) + 1;
    }
    const perSecond = Array.from(buckets, (v) => v ?? 0);
    const whole = perSecond.length > 2 ? perSecond.slice(0, -1) : perSecond; // the last second is partial
    const startedAll = tt.filter((t) => t.startedAt !== null).map((t) => t.startedAt!);
    const lastOf = (v: (number | null)[]) => {
      const xs = v.filter((x): x is number => x !== null);
      return xs.length ? round(Math.max(...xs) - first, 1) : Number.NaN;
    };
    const med = summarize(whole).p50;
    const result: ThroughputResult = {
      runs: p.runs, tasksPerRun: FANOUT_TASKS, tasks: expected, succeeded, failed, complete,
      e2eSec: round(e2eMs / 1000, 3),
      tasksPerSec: round(succeeded / (e2eMs / 1000), 1),
      medianPerSecond: med,
      perSecond,
      stallSeconds: whole.flatMap((v, i) => (v < med / 4 ? [i] : [])),
      drainedMs: { scheduled: lastOf(tt.map((t) => t.scheduledAt)), queued: lastOf(tt.map((t) => t.queuedAt)), started: lastOf(startedAll), ended: lastOf(ended.map((t) => t.endedAt)) },
      triggerWallMs: round(triggerWallMs, 1),
      firstTaskStartedMs: round(Math.min(...startedAll) - first, 1),
      waitMs: {
        runQueued: summarize(rt.map((r) => gap(r.createdAt, r.startedAt))),
        pendingToScheduled: summarize(tt.map((t) => gap(runById.get(t.runId)?.startedAt ?? null, t.scheduledAt))),
        scheduledToQueued: summarize(tt.map((t) => gap(t.scheduledAt, t.queuedAt))),
        queuedToStarted: summarize(tt.map((t) => gap(t.queuedAt, t.startedAt))),
        startedToEnded: summarize(tt.map((t) => gap(t.startedAt, t.endedAt))),
      },
      transactions: tx,
      batch: { examine: round(tt.length / Math.max(1, tx.examine), 1), queue: round(tt.length / Math.max(1, tx.queue), 1), claim: round(tt.length / Math.max(1, tx.claim), 1) },
    };
    return result;
  });
}
