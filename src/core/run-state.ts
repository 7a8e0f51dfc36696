// A DAG run's outcome from its task instances (Airflow rules): it is decided by the leaves,
// because a failure in the middle that a downstream trigger rule handles (e.g. a one_failed
// clean-up task) should not fail the whole run.
import { isFinal } from './task-state.js';
import type { TaskState } from './types.js';

export function decideRunState(
  tasks: readonly { taskId: string; state: TaskState; isLeaf: boolean }[],
): 'running' | 'success' | 'failed' {
  if (tasks.some((t) => !isFinal(t.state))) return 'running';
  const leafBroke = tasks.some((t) => t.isLeaf && (t.state === 'failed' || t.state === 'upstream_failed'));
  return leafBroke ? 'failed' : 'success';
}
