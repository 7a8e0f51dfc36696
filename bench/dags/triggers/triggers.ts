// Trigger bench DAG: a deferrable sensor waiting on an external event with the run's key.
import { dag, param, triggers } from 'keel';

export const external = dag({ id: 'bench_external', schedule: null, maxActiveRuns: 10_000, params: { key: param.string() } }, (d) => {
  d.sensor('wait', { trigger: (ctx) => triggers.external(ctx.params.key), timeoutSec: 3600 });
});
