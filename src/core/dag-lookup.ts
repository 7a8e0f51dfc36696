// Finding a task's stored definition in a serialized DAG.
import type { SerializedDag, SerializedTask } from './types.js';

const indexes = new WeakMap<SerializedDag, Map<string, SerializedTask>>();

export function findTask(dag: SerializedDag, taskId: string): SerializedTask | undefined {
  let index = indexes.get(dag);
  if (!index) {
    index = new Map(dag.tasks.map((t) => [t.taskId, t]));
    indexes.set(dag, index);
  }
  return index.get(taskId);
}
