// The smallest useful DAG: two function tasks and a shell task, run every hour and on demand.
import { dag, param } from 'keel';

export default dag(
  {
    id: 'hello',
    description: 'Say hello, count the letters, print the count',
    schedule: '@hourly',
    startDate: '2026-01-01',
    tags: ['example'],
    params: { name: param.string({ default: 'world', minLength: 1 }) },
  },
  (d) => {
    const greet = d.task('greet', async (ctx) => {
      ctx.log.info(`hello, ${ctx.params.name} (try ${ctx.tryNumber}, attempt ${ctx.attemptId})`);
      return `hello, ${ctx.params.name}`;
    });
    const count = d.task('count', { upstream: greet }, (ctx) => String(ctx.upstream.greet).length);
    d.shell('report', { upstream: count, command: 'echo "greeting for $KEEL_PARAM_NAME done"; echo ok' });
  },
);
