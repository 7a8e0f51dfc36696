import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downstreamMap, leafTaskIds, topologicalOrder, validateDag } from '../../src/core/dag-graph.js';
import type { SerializedDag, SerializedTask } from '../../src/core/types.js';

const task = (taskId: string, upstream: string[] = [], p: Partial<SerializedTask> = {}): SerializedTask => ({
  taskId,
  kind: 'function',
  upstream,
  triggerRule: 'all_success',
  executionTimeoutSec: null,
  pool: 'default',
  poolSlots: 1,
  priorityWeight: 1,
  queue: 'default',
  retries: 0,
  retryDelaySec: 300,
  exponentialBackoff: false,
  maxRetryDelaySec: 3600,
  ...p,
});

const dag = (p: Partial<SerializedDag> = {}): SerializedDag => ({
  dagId: 'etl',
  fileloc: 'etl.ts',
  description: null,
  schedule: { kind: 'cron', expression: '@daily', timezone: 'UTC' },
  startDate: '2024-01-01T00:00:00Z',
  endDate: null,
  catchup: false,
  maxActiveRuns: 1,
  maxActiveTasks: 16,
  tags: [],
  params: {},
  tasks: [task('extract'), task('transform', ['extract']), task('load', ['transform'])],
  ...p,
});

const only = (d: SerializedDag): string => {
  const errors = validateDag(d);
  assert.equal(errors.length, 1, errors.join(' | '));
  return errors[0] ?? '';
};

test('a valid DAG has no errors', () => {
  assert.deepEqual(validateDag(dag()), []);
  assert.deepEqual(validateDag(dag({ dagId: 'a.b-c_1', startDate: '2024-01-01', endDate: '2024-06-01T00:00:00+02:00' })), []);
});

test('DAG-level problems', () => {
  assert.match(only(dag({ dagId: '' })), /^dagId "" is empty; use letters, digits/);
  assert.match(only(dag({ dagId: 'my dag' })), /^dagId "my dag" has characters other than/);
  assert.match(only(dag({ dagId: 'x'.repeat(251) })), /is 251 characters long \(max 250\)/);
  assert.match(only(dag({ tasks: [] })), /^the DAG has no tasks/);
  assert.match(only(dag({ schedule: { kind: 'cron', expression: '61 * * * *', timezone: 'UTC' } })), /^schedule: invalid cron expression "61 \* \* \* \*"/);
  assert.match(only(dag({ schedule: { kind: 'interval', seconds: 0 } })), /^schedule: interval seconds must be a positive integer/);
  assert.match(only(dag({ startDate: 'yesterday' })), /^startDate "yesterday" is not an ISO-8601 date/);
  assert.match(only(dag({ startDate: '2024-02-30' })), /^startDate "2024-02-30" is not a real date/);
  assert.match(only(dag({ startDate: '2024-01-01T00:00:00' })), /^startDate "2024-01-01T00:00:00" has no time zone; add "Z"/);
  assert.match(only(dag({ endDate: 'soon' })), /^endDate "soon"/);
  assert.match(only(dag({ endDate: '2023-01-01T00:00:00Z' })), /^endDate "2023-01-01T00:00:00Z" is before startDate/);
  assert.match(only(dag({ maxActiveRuns: 0 })), /^maxActiveRuns must be an integer >= 1, got 0/);
  assert.match(only(dag({ maxActiveTasks: 2.5 })), /^maxActiveTasks must be an integer >= 1, got 2.5/);
  assert.match(only(dag({ params: { rows: { type: 'integer', default: 'x' } } })), /^param "rows": default "x" must be integer/);
});

test('task-level problems name the task and the fix', () => {
  const withTasks = (...tasks: SerializedTask[]) => only(dag({ tasks }));
  assert.equal(withTasks(task('extract'), task('load', ['extrct'])), 'task "load" depends on unknown task "extrct"');
  assert.match(withTasks(task('a', ['a'])), /^task "a" depends on itself/);
  assert.match(withTasks(task('a'), task('a')), /^task id "a" is used by more than one task/);
  assert.match(withTasks(task('bad id')), /^task id "bad id" has characters other than/);
  assert.match(withTasks(task('sh', [], { kind: 'shell' })), /^task "sh": shell task has no command/);
  assert.deepEqual(validateDag(dag({ tasks: [task('sh', [], { kind: 'shell', command: 'echo hi' })] })), []);
  assert.match(withTasks(task('a', [], { triggerRule: 'any' as SerializedTask['triggerRule'] })), /^task "a": unknown trigger rule "any"; use one of all_success/);
  assert.match(withTasks(task('a', [], { executionTimeoutSec: 0 })), /^task "a": executionTimeoutSec must be null \(no limit\) or a number of seconds > 0/);
  assert.match(withTasks(task('a', [], { poolSlots: 0 })), /^task "a": poolSlots must be an integer >= 1/);
  assert.match(withTasks(task('a', [], { retries: -1 })), /^task "a": retries must be a non-negative integer/);
  assert.match(withTasks(task('a', [], { retryDelaySec: 10, maxRetryDelaySec: 5 })), /^task "a": maxRetryDelaySec \(5\) must be >= retryDelaySec/);
});

test('cycles are reported with their path', () => {
  const errors = validateDag(dag({ tasks: [task('a', ['c']), task('b', ['a']), task('c', ['b']), task('d', ['c'])] }));
  assert.deepEqual(errors, ['cycle: a -> b -> c -> a; remove one of these dependencies']);
  const two = validateDag(dag({ tasks: [task('a', ['b']), task('b', ['a']), task('x', ['y']), task('y', ['x'])] }));
  assert.deepEqual(two, ['cycle: a -> b -> a; remove one of these dependencies', 'cycle: x -> y -> x; remove one of these dependencies']);
  assert.throws(() => topologicalOrder([task('a', ['c']), task('b', ['a']), task('c', ['b'])]), /^Error: cycle: a -> b -> c -> a/);
  assert.throws(() => topologicalOrder([task('a', ['a'])]), /task "a" depends on itself/);
});

test('topologicalOrder is stable and respects dependencies', () => {
  const tasks = [task('load', ['t1', 't2']), task('t2', ['extract']), task('t1', ['extract']), task('extract'), task('report')];
  assert.deepEqual(topologicalOrder(tasks), ['extract', 'report', 't2', 't1', 'load']);
  // A long chain must not overflow anything.
  const chain = Array.from({ length: 20_000 }, (_, i) => task(`t${i}`, i === 0 ? [] : [`t${i - 1}`]));
  assert.equal(topologicalOrder(chain).at(-1), 't19999');
  assert.deepEqual(validateDag(dag({ tasks: chain })), []);
});

test('downstreamMap and leafTaskIds', () => {
  const tasks = [task('extract'), task('t1', ['extract']), task('t2', ['extract', 'extract']), task('load', ['t1', 't2']), task('solo')];
  assert.deepEqual(downstreamMap(tasks), new Map([
    ['extract', ['t1', 't2']],
    ['t1', ['load']],
    ['t2', ['load']],
    ['load', []],
    ['solo', []],
  ]));
  assert.deepEqual(leafTaskIds(tasks), new Set(['load', 'solo']));
});
