// Latency DAG: 40 no-op function tasks in one sequential chain (t00 → t01 → … → t39).
import { dag, type TaskRef } from 'keel';

export const CHAIN_TASKS = 40;

export default dag({ id: 'bench_chain', maxActiveRuns: 1 }, (d) => {
  const refs: TaskRef[] = [];
  for (let i = 0; i < CHAIN_TASKS; i++) refs.push(d.task(`t${String(i).padStart(2, '0')}`, () => null));
  d.chain(...refs);
});
