// An ETL-shaped DAG: fan-out, fan-in, a flaky step with retries and exponential backoff,
// a pool, and a cleanup task that runs whatever happened upstream.
import { dag, param } from 'keel';

export default dag(
  {
    id: 'example_etl',
    description: 'Extract three sources in parallel, transform, load, always clean up',
    schedule: { cron: '30 6 * * *', timezone: 'Europe/Berlin' },
    startDate: '2026-11-01',
    catchup: false,
    maxActiveRuns: 2,
    tags: ['example', 'etl'],
    params: {
      rows: param.integer({ default: 100, minimum: 1, maximum: 1_000_000, description: 'rows per source' }),
      failFirstTry: param.boolean({ default: true, description: 'make "transform" fail on its first try, to show retries' }),
    },
    defaultTaskOptions: { retries: 2, retryDelaySec: 1, retryExponentialBackoff: true, maxRetryDelaySec: 10, executionTimeoutSec: 60 },
  },
  (d) => {
    const sources = ['orders', 'customers', 'products'].map((source) =>
      d.task(`extract_${source}`, { pool: 'default_pool', priorityWeight: 2 }, async (ctx) => {
        await new Promise((r) => setTimeout(r, 50));
        ctx.log.info(`extracted ${ctx.params.rows} rows from ${source}`);
        return { source, rows: ctx.params.rows };
      }),
    );
    const transform = d.task('transform', { upstream: sources }, (ctx) => {
      if (ctx.params.failFirstTry && ctx.tryNumber === 1) throw new Error('simulated transient failure on the first try');
      const total = Object.values(ctx.upstream).reduce((n: number, v) => n + (v as { rows: number }).rows, 0);
      ctx.log.info(`transformed ${total} rows on try ${ctx.tryNumber}`);
      return { total };
    });
    const load = d.task('load', { upstream: transform }, (ctx) => ({ loaded: (ctx.upstream.transform as { total: number }).total }));
    d.shell('cleanup', { upstream: load, triggerRule: 'all_done', command: 'echo "cleaning up run $KEEL_RUN_ID"' });
  },
);
