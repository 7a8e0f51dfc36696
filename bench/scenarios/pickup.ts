// (c) Pickup latency: a one-task DAG triggered by hand, the cluster idle in between:
// trigger (dag_run.created_at) → task started (task_instance.started_at).
import { withScenario, type Resources, type ScenarioContext } from '../lib/harness.js';
import { gap, runTimes, taskTimes, trigger, waitRunsEnded } from '../lib/runs.js';
import { round, sleep, summarize, type Summary } from '../lib/stats.js';

export interface PickupParams {
  triggers: number;
  warmup: number;
  runTimeoutMs: number;
  /** Idle time between triggers: a random value in [min, max), so that no trigger lines up with a poll timer. */
  idleMs: [number, number];
}

export interface PickupResult {
  triggers: number;
  states: Record<string, number>;
  /** dag_run.created_at (trigger transaction, database clock) → task_instance.started_at. */
  pickup: Summary;
  steps: { runQueued: Summary; runStartedToScheduled: Summary; scheduledToQueued: Summary; queuedToStarted: Summary };
  /** The bench's triggerDag() call, until its commit is acknowledged (bench clock). */
  triggerCallMs: Summary;
  /** Commit acknowledged (bench clock) → task started (database clock); same host, so one clock. */
  commitAckToStarted: Summary;
  /** The task's own started_at → ended_at. */
  taskRun: Summary;
}

const wallNow = () => performance.timeOrigin + performance.now();

export async function pickup(ctx: ScenarioContext, p: PickupParams): Promise<{ result: PickupResult; resources: Resources | null }> {
  return withScenario(ctx, 'pickup', 'pickup', ['bench_single'], async (s) => {
    for (let i = 0; i < p.warmup; i++) {
      const w = await trigger(s.db, 'bench_single');
      await waitRunsEnded(s.db, [w.id], p.runTimeoutMs, 10);
      await sleep(p.idleMs[0]);
    }
    await s.begin();
    const ids: string[] = [];
    const callMs: number[] = [];
    const ackAt = new Map<string, number>();
    for (let i = 0; i < p.triggers; i++) {
      await sleep(p.idleMs[0] + Math.random() * (p.idleMs[1] - p.idleMs[0]));
      const before = wallNow();
      const run = await trigger(s.db, 'bench_single');
      const after = wallNow();
      callMs.push(after - before);
      ackAt.set(run.id, after);
      ids.push(run.id);
      await waitRunsEnded(s.db, [run.id], p.runTimeoutMs, 10);
    }
    await s.end();

    const rt = await runTimes(s.db, ids);
    const tt = await taskTimes(s.db, ids);
    const taskOf = new Map(tt.map((t) => [t.runId, t]));
    const states: Record<string, number> = {};
    const col = { pickup: [] as number[], runQueued: [] as number[], runStartedToScheduled: [] as number[], scheduledToQueued: [] as number[], queuedToStarted: [] as number[], ack: [] as number[], run: [] as number[] };
    for (const r of rt) {
      const t = taskOf.get(r.id);
      states[r.state] = (states[r.state] ?? 0) + 1;
      if (!t) continue;
      col.pickup.push(gap(r.createdAt, t.startedAt));
      col.runQueued.push(gap(r.createdAt, r.startedAt));
      col.runStartedToScheduled.push(gap(r.startedAt, t.scheduledAt));
      col.scheduledToQueued.push(gap(t.scheduledAt, t.queuedAt));
      col.queuedToStarted.push(gap(t.queuedAt, t.startedAt));
      col.ack.push(gap(ackAt.get(r.id) ?? null, t.startedAt));
      col.run.push(gap(t.startedAt, t.endedAt));
    }
    return {
      triggers: rt.length, states,
      pickup: summarize(col.pickup),
      steps: { runQueued: summarize(col.runQueued), runStartedToScheduled: summarize(col.runStartedToScheduled), scheduledToQueued: summarize(col.scheduledToQueued), queuedToStarted: summarize(col.queuedToStarted) },
      triggerCallMs: summarize(callMs.map((v) => round(v, 3))),
      commitAckToStarted: summarize(col.ack),
      taskRun: summarize(col.run),
    };
  });
}
