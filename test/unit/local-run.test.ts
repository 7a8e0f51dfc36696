// The in-memory run of `keel dags test` / `keel tasks test`, without processes: which tries
// start when, retries and their delays, trigger rules, deferrals, one task alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planStep, recordOutcome, recordTriggerEnd, startLocalRun, startSingleTaskRun, summarize } from '../../src/core/local-run.js';
import type { SerializedDag, SerializedTask } from '../../src/core/types.js';

const task = (taskId: string, over: Partial<SerializedTask> = {}): SerializedTask => ({
  taskId, kind: 'function', upstream: [], triggerRule: 'all_success', retries: 0, retryDelaySec: 0, exponentialBackoff: false,
  maxRetryDelaySec: 86400, executionTimeoutSec: null, pool: 'default_pool', poolSlots: 1, priorityWeight: 1, queue: 'default', ...over,
});

const dagOf = (tasks: SerializedTask[], over: Partial<SerializedDag> = {}): SerializedDag => ({
  dagId: 'd', fileloc: 'd.ts', description: null, schedule: { kind: 'none' }, startDate: '2026-01-01T00:00:00.000Z', endDate: null,
  catchup: false, maxActiveRuns: 1, maxActiveTasks: 16, tags: [], params: {}, tasks, ...over,
});

const ids = (starts: { taskId: string }[]) => starts.map((s) => s.taskId);

test('a chain runs in dependency order, each task getting its upstream results; the run succeeds', () => {
  const run = startLocalRun(dagOf([task('b', { upstream: ['a'] }), task('a')]));
  let step = planStep(run, 0, 1);
  assert.deepEqual(ids(step.start), ['a']);
  assert.deepEqual(step.start[0], { taskId: 'a', tryNumber: 1, maxTries: 1, resume: null, upstream: {} });
  assert.deepEqual(ids(planStep(run, 1, 1).start), [], 'nothing else starts while a runs');
  recordOutcome(run, 'a', { kind: 'success', result: { rows: 5 } }, 100);
  step = planStep(run, 100, 1);
  assert.deepEqual(step.start, [{ taskId: 'b', tryNumber: 1, maxTries: 1, resume: null, upstream: { a: { rows: 5 } } }]);
  assert.equal(step.runState, 'running');
  recordOutcome(run, 'b', { kind: 'success', result: 7 }, 250);
  step = planStep(run, 250, 1);
  assert.equal(step.runState, 'success');
  assert.deepEqual(summarize(run).map((t) => [t.taskId, t.state, t.tryNumber, t.durationMs]), [['a', 'success', 1, 100], ['b', 'success', 1, 150]]);
});

test('a failure is retried after its delay (decideRetry, exponential), at once with noRetryDelay; then fails, and its downstream is upstream_failed', () => {
  const run = startLocalRun(dagOf([task('a', { retries: 2, retryDelaySec: 10, exponentialBackoff: true }), task('b', { upstream: ['a'] })]));
  planStep(run, 0, 1);
  assert.deepEqual(recordOutcome(run, 'a', { kind: 'failure', error: 'boom' }, 1000), { state: 'up_for_retry', retryInSec: 10 });
  let step = planStep(run, 5000, 1);
  assert.deepEqual(step.start, []);
  assert.equal(step.nextRetryAt, 11_000, 'the caller sleeps until the retry is due');
  assert.equal(step.runState, 'running');
  step = planStep(run, 11_000, 1);
  assert.deepEqual(step.start.map((s) => [s.taskId, s.tryNumber, s.maxTries]), [['a', 2, 3]]);
  assert.deepEqual(recordOutcome(run, 'a', { kind: 'failure', error: 'boom' }, 12_000), { state: 'up_for_retry', retryInSec: 20 }, 'backoff doubles');
  planStep(run, 32_000, 1);
  assert.deepEqual(recordOutcome(run, 'a', { kind: 'failure', error: 'boom again' }, 33_000), { state: 'failed', retryInSec: null });
  step = planStep(run, 33_000, 1);
  assert.deepEqual(step.settled, [{ taskId: 'b', state: 'upstream_failed' }]);
  assert.equal(step.runState, 'failed');
  const a = summarize(run)[0]!;
  assert.deepEqual([a.state, a.tryNumber, a.error], ['failed', 3, 'boom again']);

  const quick = startLocalRun(dagOf([task('a', { retries: 1, retryDelaySec: 300 })]));
  planStep(quick, 0, 1);
  assert.deepEqual(recordOutcome(quick, 'a', { kind: 'failure', error: 'boom' }, 10, true), { state: 'up_for_retry', retryInSec: 0 });
  assert.deepEqual(planStep(quick, 10, 1).start.map((s) => s.tryNumber), [2], 'due at once, the retry count unchanged');
});

test('trigger rules decide as in a database run: an all_done leaf runs after a failure and decides the run, a skip cascades', () => {
  const run = startLocalRun(dagOf([
    task('a'), task('cleanup', { upstream: ['a'], triggerRule: 'all_done' }), task('on_fail', { upstream: ['a'], triggerRule: 'one_failed' }),
    task('on_ok', { upstream: ['a'] }), task('after_ok', { upstream: ['on_ok'], triggerRule: 'none_failed' }),
  ]));
  planStep(run, 0, 4);
  recordOutcome(run, 'a', { kind: 'failure', error: 'x' }, 1);
  const step = planStep(run, 1, 4);
  assert.deepEqual(ids(step.start).sort(), ['cleanup', 'on_fail']);
  assert.deepEqual(step.settled, [{ taskId: 'on_ok', state: 'upstream_failed' }, { taskId: 'after_ok', state: 'upstream_failed' }]);
  recordOutcome(run, 'cleanup', { kind: 'success', result: null }, 2);
  recordOutcome(run, 'on_fail', { kind: 'success', result: null }, 2);
  assert.equal(planStep(run, 2, 4).runState, 'failed', 'the upstream_failed leaf fails the run');

  const handled = startLocalRun(dagOf([task('a'), task('cleanup', { upstream: ['a'], triggerRule: 'all_done' })]));
  planStep(handled, 0, 1);
  recordOutcome(handled, 'a', { kind: 'failure', error: 'x' }, 1);
  planStep(handled, 1, 1);
  recordOutcome(handled, 'cleanup', { kind: 'success', result: null }, 2);
  assert.equal(planStep(handled, 2, 1).runState, 'success', 'the leaves decide the run');
});

test('slots, the DAG\'s maxActiveTasks and priorityWeight decide which ready tasks start', () => {
  const tasks = [task('low'), task('high', { priorityWeight: 5 }), task('mid', { priorityWeight: 2 })];
  assert.deepEqual(ids(planStep(startLocalRun(dagOf(tasks)), 0, 1).start), ['high']);
  assert.deepEqual(ids(planStep(startLocalRun(dagOf(tasks)), 0, 2).start), ['high', 'mid']);
  assert.deepEqual(ids(planStep(startLocalRun(dagOf(tasks, { maxActiveTasks: 1 })), 0, 3).start), ['high']);
});

test('a deferral frees its slot and resumes the same try with the event, or fails per its retry policy when its trigger ends without one', () => {
  const run = startLocalRun(dagOf([task('wait', { retries: 1 }), task('other')]));
  assert.deepEqual(ids(planStep(run, 0, 1).start), ['wait']);
  assert.deepEqual(recordOutcome(run, 'wait', { kind: 'deferred' }, 5), { state: 'deferred', retryInSec: null });
  let step = planStep(run, 5, 1);
  assert.deepEqual(ids(step.start), ['other'], 'the deferred task holds no slot');
  assert.equal(step.nextRetryAt, null);
  recordOutcome(run, 'other', { kind: 'success', result: 1 }, 6);
  recordTriggerEnd(run, 'wait', { event: { firedAt: 'now' } });
  step = planStep(run, 7, 1);
  assert.deepEqual(step.start, [{ taskId: 'wait', tryNumber: 1, maxTries: 2, resume: { event: { firedAt: 'now' } }, upstream: {} }]);
  recordOutcome(run, 'wait', { kind: 'deferred' }, 8);
  recordTriggerEnd(run, 'wait', { error: 'the deferral timed out' });
  step = planStep(run, 9, 1);
  assert.deepEqual(step.start[0]!.resume, { error: 'the deferral timed out' });
  assert.equal(recordOutcome(run, 'wait', { kind: 'failure', error: 'the deferral timed out' }, 9).state, 'up_for_retry');
});

test('what a local run cannot do fails the task without retries', () => {
  const run = startLocalRun(dagOf([task('ext', { retries: 3 })]));
  planStep(run, 0, 1);
  assert.deepEqual(recordOutcome(run, 'ext', { kind: 'unsupported', error: 'needs the database' }, 1), { state: 'failed', retryInSec: null });
  assert.equal(planStep(run, 1, 1).runState, 'failed');
});

test('one task alone starts at once with the upstream results given, null for the ones not given', () => {
  const dag = dagOf([task('a'), task('b'), task('c', { upstream: ['a', 'b'], triggerRule: 'all_failed' })]);
  const run = startSingleTaskRun(dag, 'c', { a: { rows: 5 } });
  const step = planStep(run, 0, 1);
  assert.deepEqual(step.start, [{ taskId: 'c', tryNumber: 1, maxTries: 1, resume: null, upstream: { a: { rows: 5 }, b: null } }]);
  recordOutcome(run, 'c', { kind: 'success', result: 'ok' }, 1);
  assert.equal(planStep(run, 1, 1).runState, 'success');
  assert.deepEqual(summarize(run).map((t) => t.taskId), ['c']);
  assert.throws(() => startSingleTaskRun(dag, 'c', { x: 1 }), /--upstream names "x", not an upstream task of "c"; its upstream tasks: a, b/);
  assert.throws(() => startSingleTaskRun(dag, 'a', { b: 1 }), /it has no upstream tasks/);
  assert.throws(() => startSingleTaskRun(dag, 'zz', {}), /DAG "d" has no task "zz"; its tasks: a, b, c/);
});
