// Throughput DAG: 100 independent no-op function tasks. Limits are raised so that only
// Keel's own machinery (not max_active_runs / max_active_tasks) bounds the rate.
import { dag } from 'keel';

export const FANOUT_TASKS = 100;

export default dag({ id: 'bench_fanout', maxActiveRuns: 1000, maxActiveTasks: 100_000 }, (d) => {
  for (let i = 0; i < FANOUT_TASKS; i++) d.task(`t${String(i).padStart(3, '0')}`, () => null);
});
