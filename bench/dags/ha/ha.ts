// HA bench DAGs: a task that runs for `ms` (to be killed or frozen under), and a no-op.
import { dag, param } from 'keel';

export const sleeper = dag({ id: 'bench_sleep', maxActiveRuns: 1000, params: { ms: param.integer({ default: 3000 }) }, defaultTaskOptions: { retries: 5, retryDelaySec: 300 } }, (d) => {
  d.task('sleep', async (ctx) => {
    await new Promise((r) => setTimeout(r, ctx.params.ms));
    return null;
  });
});

export const noop = dag({ id: 'bench_noop', maxActiveRuns: 1000 }, (d) => {
  d.task('only', () => null);
});
