// The chaos workload: fan-out and fan-in, a chain, tasks of varied length and a task that
// fails its first try, and deferrals (a timer, an external event, a poke sensor). Every
// attempt records its start and finish in the chaos history; deferring ones also record
// defer and resume.
import { dag, param, triggers, type TaskContext } from 'keel';
import { approvalKey, recordEvent } from 'keel/chaos';

type Ctx = TaskContext<{ seed: number }>;

/** Deterministic per task and run, so that reruns of an attempt take as long. */
function durationMs(ctx: Ctx, minMs: number, maxMs: number): number {
  let h = ctx.params.seed;
  for (const ch of `${ctx.runId}/${ctx.taskId}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return minMs + (h % (maxMs - minMs + 1));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); reject(new Error('aborted')); }, { once: true });
  });
}

function work(minMs: number, maxMs: number, failFirstTry = false) {
  return async (ctx: Ctx) => {
    await recordEvent(ctx, 'start');
    await sleep(durationMs(ctx, minMs, maxMs), ctx.signal);
    if (failFirstTry && ctx.tryNumber === 1) throw new Error('planned failure of the first try');
    await recordEvent(ctx, 'finish');
    return { attempt: ctx.attemptId };
  };
}

const options = {
  params: { seed: param.integer({ default: 7 }) },
  maxActiveRuns: 50,
  maxActiveTasks: 16,
  defaultTaskOptions: { retries: 25, retryDelaySec: 0 },
};

export const fanout = dag({ id: 'chaos_fanout', ...options }, (d) => {
  const start = d.task('start', work(20, 200));
  const branches = Array.from({ length: 6 }, (_, i) => d.task(`branch_${i}`, { upstream: start }, work(100, 2500)));
  d.task('join', { upstream: branches }, work(20, 200));
});

export const chain = dag({ id: 'chaos_chain', ...options }, (d) => {
  const steps = Array.from({ length: 6 }, (_, i) => d.task(`step_${i}`, work(50, 800)));
  d.chain(...steps);
});

export const mixed = dag({ id: 'chaos_mixed', ...options }, (d) => {
  const a = d.task('extract', work(50, 1500));
  const b = d.task('flaky', { upstream: a }, work(50, 500, true));
  const c = d.task('long', { upstream: a }, work(2000, 4000));
  d.task('load', { upstream: [b, c] }, work(20, 300));
});

/** Defers on a trigger on its first run, and records the deferral and the resume in the ledger. */
function deferOn(trigger: (ctx: Ctx) => Parameters<Ctx['defer']>[0]) {
  return async (ctx: Ctx) => {
    await recordEvent(ctx, 'start');
    if (!ctx.resumed) {
      await recordEvent(ctx, 'defer');
      ctx.defer(trigger(ctx), { timeoutSec: 600 });
    }
    await recordEvent(ctx, 'resume');
    await recordEvent(ctx, 'finish');
    return { attempt: ctx.attemptId, event: ctx.triggerEvent };
  };
}

export const deferred = dag({ id: 'chaos_deferred', ...options }, (d) => {
  const prep = d.task('prep', work(20, 300));
  const timer = d.task('timer', { upstream: prep }, deferOn((ctx) => triggers.after(durationMs(ctx, 300, 3000) / 1000)));
  const approval = d.task('approval', { upstream: prep }, deferOn((ctx) => triggers.external(approvalKey(ctx.runId))));
  const poke = d.sensor('poke', { upstream: prep, mode: 'poke', pokeIntervalSec: 0.2, trigger: (ctx) => triggers.after(durationMs(ctx, 200, 1500) / 1000) });
  d.task('done', { upstream: [timer, approval, poke] }, work(20, 200));
});
