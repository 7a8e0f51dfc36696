// Pickup DAG: one no-op function task, triggered by hand.
import { dag } from 'keel';

export default dag({ id: 'bench_single', maxActiveRuns: 1 }, (d) => {
  d.task('only', () => null);
});
