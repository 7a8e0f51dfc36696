// The chaos checker: given what the workload was promised (acknowledged triggers), what
// Keel recorded (runs, task instances, attempts, HA events) and what the tasks themselves
// did (the history ledger), list every violation of Keel's invariants and measure
// recovery. Pure: it works on plain rows, so it is tested without a database.

export interface AckedRun { runDbId: string; dagId: string }
export interface RunRow { id: string; dag_id: string; logical_date: Date; state: string }
export interface TaskInstanceRow { id: string; dag_run_id: string; task_id: string; state: string; attempt_id: string | null }
export interface AttemptRow { attempt_id: string; task_instance_id: string; state: string; worker_id: string | null; started_at: Date; ended_at: Date | null }
/** start / finish of an attempt's work; defer / resume around a deferral (try_number tells the deferral apart). */
export interface HistoryRow { dag_id: string; run_id: string; task_id: string; attempt_id: string; try_number?: number; event: 'start' | 'finish' | 'defer' | 'resume'; at: Date }
export interface Fault { kind: 'kill' | 'freeze'; role: string; componentId: string | null; at: Date; until?: Date; runningAttempts: string[] }
export interface TriggerRow { id: string; task_instance_id: string; state: string }
/** A triggers_taken_over event: when, and from which triggerers. */
export interface Takeover { at: Date; from: string[] }
/** A DAG seen inactive while the workload ran. */
export interface Flap { dagId: string; at: Date }

export interface ChaosInput {
  acked: AckedRun[];
  runs: RunRow[];
  taskInstances: TaskInstanceRow[];
  attempts: AttemptRow[];
  history: HistoryRow[];
  lateWritesRejected: number;
  faults: Fault[];
  /** zombie_fenced events: which attempt was fenced when. */
  fenced: { attemptId: string; at: Date }[];
  /** Triggers of deferred tasks (absent: the workload deferred nothing). */
  triggers?: TriggerRow[];
  takeovers?: Takeover[];
  flaps?: Flap[];
  /** Tasks that keep no ledger (sensors built by d.sensor()): their accepted attempt need not appear in it. */
  unrecordedTasks?: string[];
}

export interface Overlap { taskInstanceId: string; first: string; second: string; overlapMs: number; explainedByFreeze: boolean }

export interface ChaosReport {
  runs: number;
  taskInstances: number;
  attempts: number;
  faults: { kills: number; freezes: number };
  violations: string[];
  overlaps: Overlap[];
  lateWritesRejected: number;
  lateFinishesInHistory: number;
  /** Worker killed → its attempts fenced (detection). */
  detectionMs: Stats;
  /** Worker killed → its task started again on another worker. */
  recoveryMs: Stats;
  deferrals: { triggers: number; fired: number };
  /** Triggerer killed → its triggers taken over by another. */
  triggerTakeoverMs: Stats;
}

export interface Stats { samples: number; p50: number | null; p99: number | null; max: number | null }

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  return { samples: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null };
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function checkChaos(input: ChaosInput): ChaosReport {
  const violations: string[] = [];
  const runsById = new Map(input.runs.map((r) => [r.id, r]));

  // Every acknowledged trigger has its run, and every run reached a final state.
  for (const a of input.acked) {
    const run = runsById.get(a.runDbId);
    if (!run) violations.push(`acknowledged run ${a.runDbId} of ${a.dagId} is missing`);
    else if (run.state !== 'success') violations.push(`run ${run.id} of ${run.dag_id} ended ${run.state}, expected success`);
  }
  if (input.runs.length !== input.acked.length) violations.push(`${input.runs.length} runs exist for ${input.acked.length} acknowledged triggers`);
  const logical = new Set<string>();
  for (const r of input.runs) {
    const key = `${r.dag_id}@${r.logical_date.toISOString()}`;
    if (logical.has(key)) violations.push(`duplicate run ${key}`);
    logical.add(key);
  }

  // Exactly one accepted result per task instance, and it is the attempt the ledger saw finish.
  const attemptsByTi = new Map<string, AttemptRow[]>();
  for (const a of input.attempts) attemptsByTi.set(a.task_instance_id, [...(attemptsByTi.get(a.task_instance_id) ?? []), a]);
  const finished = new Map<string, Date>();
  const started = new Map<string, Date>();
  for (const h of input.history) (h.event === 'finish' ? finished : started).set(h.attempt_id, h.at);
  let lateFinishes = 0;
  for (const ti of input.taskInstances) {
    const list = attemptsByTi.get(ti.id) ?? [];
    const successes = list.filter((a) => a.state === 'success');
    if (ti.state !== 'success') violations.push(`task instance ${ti.id} (${ti.task_id}) ended ${ti.state}`);
    if (successes.length !== 1) violations.push(`task instance ${ti.id} (${ti.task_id}) has ${successes.length} accepted results`);
    else if (successes[0]!.attempt_id !== ti.attempt_id) violations.push(`task instance ${ti.id}: accepted attempt ${successes[0]!.attempt_id} is not its current attempt ${ti.attempt_id}`);
    else if (!finished.has(ti.attempt_id) && !input.unrecordedTasks?.includes(ti.task_id)) violations.push(`task instance ${ti.id}: accepted attempt ${ti.attempt_id} never finished in the ledger`);
    for (const a of list) {
      if (a.attempt_id !== ti.attempt_id && finished.has(a.attempt_id)) {
        lateFinishes++;
        if (a.state === 'success') violations.push(`task instance ${ti.id}: a second attempt ${a.attempt_id} was accepted`);
      }
    }
  }

  // No two attempts of one task instance ran at the same time, unless a frozen process explains it.
  const freezes = input.faults.filter((f) => f.kind === 'freeze');
  const overlaps: Overlap[] = [];
  for (const [tiId, list] of attemptsByTi) {
    const spans = list
      .filter((a) => started.has(a.attempt_id))
      .map((a) => ({ a, start: started.get(a.attempt_id)!.getTime(), end: (finished.get(a.attempt_id) ?? a.ended_at ?? new Date(8.64e15)).getTime() }))
      .sort((x, y) => x.start - y.start);
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        const [x, y] = [spans[i]!, spans[j]!];
        const overlapMs = Math.min(x.end, y.end) - Math.max(x.start, y.start);
        if (overlapMs <= 0) continue;
        const explainedByFreeze = freezes.some((f) => f.componentId === x.a.worker_id && f.at.getTime() <= x.end && (f.until?.getTime() ?? Infinity) >= x.start);
        overlaps.push({ taskInstanceId: tiId, first: x.a.attempt_id, second: y.a.attempt_id, overlapMs, explainedByFreeze });
        if (!explainedByFreeze) violations.push(`task instance ${tiId}: attempts ${x.a.attempt_id} and ${y.a.attempt_id} overlapped by ${overlapMs} ms`);
      }
    }
  }

  // Recovery: a worker killed while it held attempts → the next attempt of each starts.
  const recovery: number[] = [];
  const detection: number[] = [];
  const attemptTi = new Map(input.attempts.map((a) => [a.attempt_id, a.task_instance_id]));
  const fencedAt = new Map(input.fenced.map((f) => [f.attemptId, f.at]));
  for (const f of input.faults.filter((x) => x.kind === 'kill')) {
    for (const held of f.runningAttempts) {
      const fenced = fencedAt.get(held);
      if (fenced && fenced.getTime() >= f.at.getTime()) detection.push(fenced.getTime() - f.at.getTime());
      const tiId = attemptTi.get(held);
      if (!tiId) continue;
      const next = (attemptsByTi.get(tiId) ?? [])
        .map((a) => started.get(a.attempt_id))
        .filter((d): d is Date => d !== undefined && d.getTime() > f.at.getTime())
        .sort((a, b) => a.getTime() - b.getTime())[0];
      if (next) recovery.push(next.getTime() - f.at.getTime());
    }
  }

  // Deferrals: every deferred attempt made one trigger, every trigger fired (none lost,
  // none timed out), and no deferral was resumed twice (two resumes of one try).
  const triggers = input.triggers ?? [];
  const triggersByTi = new Map<string, TriggerRow[]>();
  for (const tr of triggers) triggersByTi.set(tr.task_instance_id, [...(triggersByTi.get(tr.task_instance_id) ?? []), tr]);
  for (const tr of triggers) if (tr.state !== 'fired') violations.push(`trigger ${tr.id} of task instance ${tr.task_instance_id} ended ${tr.state}, expected fired`);
  for (const [tiId, list] of attemptsByTi) {
    const deferredAttempts = list.filter((a) => a.state === 'deferred').length;
    const made = triggersByTi.get(tiId)?.length ?? 0;
    if (deferredAttempts !== made) violations.push(`task instance ${tiId}: ${deferredAttempts} deferred attempts but ${made} triggers`);
  }
  const resumes = new Map<string, number>();
  for (const h of input.history) {
    if (h.event !== 'resume') continue;
    const tiId = attemptTi.get(h.attempt_id) ?? h.attempt_id;
    const key = `${tiId} try ${h.try_number}`;
    resumes.set(key, (resumes.get(key) ?? 0) + 1);
  }
  for (const [key, n] of resumes) if (n > 1) violations.push(`task instance ${key}: one deferral resumed ${n} times`);
  for (const f of input.flaps ?? []) violations.push(`DAG ${f.dagId} was inactive at ${f.at.toISOString()} while processors were killed or frozen`);

  // Triggerer takeover: from the kill to the first takeover of that triggerer's triggers
  // (a frozen one's move when their lease expires).
  const takeover: number[] = [];
  for (const f of input.faults.filter((x) => x.kind === 'kill' && x.role === 'triggerer' && x.componentId)) {
    const next = (input.takeovers ?? [])
      .filter((t) => t.from.includes(f.componentId!) && t.at.getTime() >= f.at.getTime())
      .sort((a, b) => a.at.getTime() - b.at.getTime())[0];
    if (next) takeover.push(next.at.getTime() - f.at.getTime());
  }

  return {
    runs: input.runs.length,
    taskInstances: input.taskInstances.length,
    attempts: input.attempts.length,
    faults: { kills: input.faults.filter((f) => f.kind === 'kill').length, freezes: freezes.length },
    violations,
    overlaps,
    lateWritesRejected: input.lateWritesRejected,
    lateFinishesInHistory: lateFinishes,
    detectionMs: stats(detection),
    recoveryMs: stats(recovery),
    deferrals: { triggers: triggers.length, fired: triggers.filter((tr) => tr.state === 'fired').length },
    triggerTakeoverMs: stats(takeover),
  };
}
