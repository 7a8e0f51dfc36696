// The task graph of a DAG: whole-DAG validation (every problem at once, each saying what to
// fix, so a DAG author fixes a file in one pass) and the graph queries the scheduler needs.
import { validateParamSpecs } from './params.js';
import { validateRetryPolicy } from './retry-policy.js';
import { validateSchedule } from './schedule.js';
import { shellEnvProblems, upstreamEnvProblems } from './task-env.js';
import { TRIGGER_RULES, type SerializedDag, type SerializedTask } from './types.js';

const ID = /^[A-Za-z0-9_.-]+$/;
/** Longest DAG and task id; the API's ids and names in paths (pools, variables, connections) follow it. */
export const MAX_ID_LENGTH = 250;
const ID_RULE = `letters, digits, "_", "-" and "." only, at most ${MAX_ID_LENGTH} characters`;

function idProblem(id: unknown): string | null {
  if (typeof id !== 'string' || id === '') return 'is empty';
  if (id.length > MAX_ID_LENGTH) return `is ${id.length} characters long (max ${MAX_ID_LENGTH})`;
  if (!ID.test(id)) return `has characters other than ${ID_RULE}`;
  return null;
}

/** The distinct known upstream ids of a task, in declared order. */
function upstreamOf(task: SerializedTask, known: ReadonlySet<string>): string[] {
  return [...new Set(Array.isArray(task.upstream) ? task.upstream : [])].filter((u) => known.has(u));
}

/** Every task id -> the ids that depend on it, in task order. Unknown upstream ids are ignored. */
export function downstreamMap(tasks: readonly SerializedTask[]): Map<string, string[]> {
  const known = new Set(tasks.map((t) => t.taskId));
  const map = new Map<string, string[]>();
  for (const t of tasks) map.set(t.taskId, []);
  for (const t of tasks) {
    for (const u of upstreamOf(t, known)) map.get(u)?.push(t.taskId);
  }
  return map;
}

/** Tasks nothing depends on: they decide a run's outcome. */
export function leafTaskIds(tasks: readonly SerializedTask[]): Set<string> {
  const leaves = new Set<string>();
  for (const [id, down] of downstreamMap(tasks)) if (down.length === 0) leaves.add(id);
  return leaves;
}

/**
 * Cycles found by a depth-first walk along downstream edges (one per back edge), each as a
 * path in run order that starts and ends on the same id. Iterative, so a long chain of tasks
 * cannot overflow the call stack.
 */
function findCycles(tasks: readonly SerializedTask[]): string[][] {
  const down = downstreamMap(tasks);
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  for (const root of tasks) {
    if (state.has(root.taskId)) continue;
    const path: string[] = [root.taskId];
    const cursor: number[] = [0];
    state.set(root.taskId, 'visiting');
    while (path.length > 0) {
      const depth = path.length - 1;
      const id = path[depth] as string;
      const children = down.get(id) ?? [];
      const i = cursor[depth] as number;
      if (i >= children.length) {
        state.set(id, 'done');
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[depth] = i + 1;
      const next = children[i] as string;
      if (next === id) continue; // a self-dependency is reported on its own
      const s = state.get(next);
      if (s === 'visiting') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (s === undefined) {
        state.set(next, 'visiting');
        path.push(next);
        cursor.push(0);
      }
    }
  }
  return cycles;
}

function cycleMessage(path: readonly string[]): string {
  return `cycle: ${path.join(' -> ')}; remove one of these dependencies`;
}

/**
 * Task ids in an order where every task comes after its upstream tasks; ties keep the declared
 * order, so the result is stable. Throws on a cycle.
 */
export function topologicalOrder(tasks: readonly SerializedTask[]): string[] {
  const known = new Set(tasks.map((t) => t.taskId));
  const down = downstreamMap(tasks);
  const indegree = new Map<string, number>();
  for (const t of tasks) indegree.set(t.taskId, upstreamOf(t, known).length);
  const order: string[] = [];
  // Kahn's algorithm; the ready list is kept in declared order for a deterministic result.
  const position = new Map(tasks.map((t, i) => [t.taskId, i]));
  let ready = tasks.filter((t) => indegree.get(t.taskId) === 0).map((t) => t.taskId);
  while (ready.length > 0) {
    const next: string[] = [];
    for (const id of ready) {
      order.push(id);
      for (const d of down.get(id) ?? []) {
        const left = (indegree.get(d) ?? 0) - 1;
        indegree.set(d, left);
        if (left === 0) next.push(d);
      }
    }
    ready = next.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  }
  if (order.length < known.size) {
    const cycle = findCycles(tasks)[0];
    const self = tasks.find((t) => Array.isArray(t.upstream) && t.upstream.includes(t.taskId));
    throw new Error(cycle ? cycleMessage(cycle) : `cycle: task "${self?.taskId ?? '?'}" depends on itself`);
  }
  return order;
}

// Dates without a zone would be read in the machine's local time, so a time needs Z or an offset.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function isoDateProblem(field: string, value: unknown): string | null {
  const example = `an ISO-8601 date such as "2024-01-01" or "2024-01-01T06:00:00Z"`;
  if (typeof value !== 'string') return `${field} must be ${example}, got ${JSON.stringify(value)}`;
  const m = ISO.exec(value);
  if (!m) return `${field} "${value}" is not ${example}`;
  const [, y, mo, d, h, mi, s, zone] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const validDay = day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d);
  const validTime = h === undefined || (Number(h) <= 23 && Number(mi) <= 59 && Number(s ?? 0) <= 59);
  if (!validDay || !validTime || Number.isNaN(Date.parse(value))) return `${field} "${value}" is not a real date/time`;
  if (h !== undefined && zone === undefined) {
    return `${field} "${value}" has no time zone; add "Z" (UTC) or an offset such as "+02:00"`;
  }
  return null;
}

function isPositiveInteger(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function validateTask(task: SerializedTask, known: ReadonlySet<string>): string[] {
  const errors: string[] = [];
  const t = `task "${String(task.taskId)}"`;
  if (task.kind !== 'function' && task.kind !== 'shell') {
    errors.push(`${t}: kind must be "function" or "shell", got ${JSON.stringify(task.kind)}`);
  }
  if (task.kind === 'shell' && (typeof task.command !== 'string' || task.command.trim() === '')) {
    errors.push(`${t}: shell task has no command; set command to the shell command to run`);
  }
  if (task.env !== undefined) {
    if (task.kind === 'shell') for (const p of shellEnvProblems(task.env)) errors.push(`${t}: ${p}`);
    else errors.push(`${t}: env is for shell tasks; a function task reads ctx.variables and ctx.connections`);
  }
  if (task.kind === 'shell' && Array.isArray(task.upstream)) for (const p of upstreamEnvProblems(task.upstream)) errors.push(`${t}: ${p}`);
  if (!Array.isArray(task.upstream)) {
    errors.push(`${t}: upstream must be a list of task ids`);
  } else {
    for (const u of new Set(task.upstream)) {
      if (u === task.taskId) errors.push(`${t} depends on itself; remove it from its own upstream`);
      else if (!known.has(u)) errors.push(`${t} depends on unknown task "${String(u)}"`);
    }
  }
  if (!TRIGGER_RULES.includes(task.triggerRule)) {
    errors.push(`${t}: unknown trigger rule ${JSON.stringify(task.triggerRule)}; use one of ${TRIGGER_RULES.join(', ')}`);
  }
  if (task.executionTimeoutSec !== null && !(typeof task.executionTimeoutSec === 'number' && task.executionTimeoutSec > 0 && Number.isFinite(task.executionTimeoutSec))) {
    errors.push(`${t}: executionTimeoutSec must be null (no limit) or a number of seconds > 0, got ${String(task.executionTimeoutSec)}`);
  }
  if (typeof task.pool !== 'string' || task.pool === '') errors.push(`${t}: pool must be a non-empty pool name`);
  if (!isPositiveInteger(task.poolSlots)) errors.push(`${t}: poolSlots must be an integer >= 1, got ${String(task.poolSlots)}`);
  if (!(typeof task.priorityWeight === 'number' && Number.isInteger(task.priorityWeight))) {
    errors.push(`${t}: priorityWeight must be an integer, got ${String(task.priorityWeight)}`);
  }
  if (typeof task.queue !== 'string' || task.queue === '') errors.push(`${t}: queue must be a non-empty queue name`);
  for (const msg of validateRetryPolicy(task)) errors.push(`${t}: ${msg}`);
  return errors;
}

/** Every problem with a serialized DAG, each naming the DAG field or task and the fix; empty when valid. */
export function validateDag(dag: SerializedDag): string[] {
  const errors: string[] = [];
  const dagIdProblem = idProblem(dag.dagId);
  if (dagIdProblem) errors.push(`dagId ${JSON.stringify(dag.dagId ?? '')} ${dagIdProblem}; use ${ID_RULE}`);

  for (const msg of validateSchedule(dag.schedule)) errors.push(`schedule: ${msg}`);
  const startProblem = isoDateProblem('startDate', dag.startDate);
  if (startProblem) errors.push(startProblem);
  if (dag.endDate !== null) {
    const endProblem = isoDateProblem('endDate', dag.endDate);
    if (endProblem) errors.push(endProblem);
    else if (!startProblem && Date.parse(dag.endDate) < Date.parse(dag.startDate)) {
      errors.push(`endDate "${dag.endDate}" is before startDate "${dag.startDate}"; move endDate later or set it to null`);
    }
  }
  if (typeof dag.catchup !== 'boolean') errors.push(`catchup must be true or false, got ${JSON.stringify(dag.catchup)}`);
  if (!isPositiveInteger(dag.maxActiveRuns)) errors.push(`maxActiveRuns must be an integer >= 1, got ${String(dag.maxActiveRuns)}`);
  if (!isPositiveInteger(dag.maxActiveTasks)) errors.push(`maxActiveTasks must be an integer >= 1, got ${String(dag.maxActiveTasks)}`);
  errors.push(...validateParamSpecs(dag.params));

  const tasks = Array.isArray(dag.tasks) ? dag.tasks : [];
  if (tasks.length === 0) {
    errors.push('the DAG has no tasks; add at least one task');
    return errors;
  }
  const seen = new Set<string>();
  for (const task of tasks) {
    const problem = idProblem(task.taskId);
    if (problem) errors.push(`task id ${JSON.stringify(task.taskId ?? '')} ${problem}; use ${ID_RULE}`);
    else if (seen.has(task.taskId)) errors.push(`task id "${task.taskId}" is used by more than one task; task ids must be unique`);
    seen.add(task.taskId);
  }
  for (const task of tasks) errors.push(...validateTask(task, seen));
  for (const cycle of findCycles(tasks)) errors.push(cycleMessage(cycle));
  return errors;
}
