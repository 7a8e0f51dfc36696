// The pure part of callbacks and deadlines (src/core/callbacks.ts) and how DAG options
// become their stored form (src/sdk/serialize.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callbackKey, callbackOption, deadlineAt, deadlineCallbackFor, parseDeadline, runCallbackFor, taskCallbackFor, validateRunLimits } from '../../src/core/callbacks.js';
import { validateDag } from '../../src/core/dag-graph.js';
import { dag } from '../../src/sdk/dag.js';
import { serializeDag } from '../../src/sdk/serialize.js';

test('the callback key: one per task try, one per run end, one per run for the deadline', () => {
  assert.deepEqual(callbackKey({ kind: 'on_retry', dagRunId: '7', taskId: 'load', tryNumber: 2 }), { kind: 'on_retry', dagRunId: '7', taskId: 'load', seq: 2 });
  assert.deepEqual(callbackKey({ kind: 'on_failure', dagRunId: '7', runEnd: 3 }), { kind: 'on_failure', dagRunId: '7', taskId: '', seq: 3 });
  assert.deepEqual(callbackKey({ kind: 'on_deadline_missed', dagRunId: '7' }), { kind: 'on_deadline_missed', dagRunId: '7', taskId: '', seq: 0 });
  // A retried transaction computes the same key for the same event; another try or a second end differs.
  assert.deepEqual(callbackKey({ kind: 'on_retry', dagRunId: '7', taskId: 'load', tryNumber: 2 }), callbackKey({ kind: 'on_retry', dagRunId: '7', taskId: 'load', tryNumber: 2 }));
  assert.notDeepEqual(callbackKey({ kind: 'on_failure', dagRunId: '7', runEnd: 1 }), callbackKey({ kind: 'on_failure', dagRunId: '7', runEnd: 2 }));
});

test('an outcome calls the callback it defines, and only that one', () => {
  const task = { callbacks: ['onRetry', 'onFailure'] as ('onRetry' | 'onFailure')[] };
  assert.equal(taskCallbackFor(task, 'up_for_retry'), 'on_retry');
  assert.equal(taskCallbackFor(task, 'failed'), 'on_failure');
  assert.equal(taskCallbackFor(task, 'success'), null);
  assert.equal(taskCallbackFor({}, 'failed'), null);
  assert.equal(runCallbackFor({ callbacks: ['onSuccess'] }, 'success'), 'on_success');
  assert.equal(runCallbackFor({ callbacks: ['onSuccess'] }, 'failed'), null);
  assert.equal(deadlineCallbackFor({ callbacks: ['onDeadlineMissed'] }), 'on_deadline_missed');
  assert.equal(deadlineCallbackFor({}), null);
  assert.equal(callbackOption('on_deadline_missed'), 'onDeadlineMissed');
  assert.equal(callbackOption('on_retry'), 'onRetry');
});

test('deadlines: relative to the logical date or to the queued time', () => {
  const logicalDate = new Date('2026-01-01T00:00:00Z');
  const queuedAt = new Date('2026-01-01T01:00:00Z');
  assert.deepEqual(parseDeadline({ afterLogicalDateSec: 5400 }), { reference: 'logical_date', offsetSec: 5400 });
  assert.deepEqual(parseDeadline({ afterQueuedSec: 60 }), { reference: 'queued_at', offsetSec: 60 });
  assert.equal(parseDeadline(undefined), undefined);
  assert.equal(deadlineAt(parseDeadline({ afterLogicalDateSec: 5400 }), { logicalDate, queuedAt })?.toISOString(), '2026-01-01T01:30:00.000Z');
  assert.equal(deadlineAt(parseDeadline({ afterQueuedSec: 60 }), { logicalDate, queuedAt })?.toISOString(), '2026-01-01T01:01:00.000Z');
  assert.equal(deadlineAt(undefined, { logicalDate, queuedAt }), null);
});

test('a bad deadline or run timeout names the field and the fix', () => {
  assert.throws(() => parseDeadline({ afterQueuedSec: -1 }), /deadline\.afterQueuedSec: must be a number of seconds >= 0, got -1/);
  assert.throws(() => parseDeadline({ afterQueuedSec: 1, afterLogicalDateSec: 2 }), /exactly one of afterLogicalDateSec or afterQueuedSec/);
  assert.throws(() => parseDeadline({ in: 5 }), /exactly one of afterLogicalDateSec or afterQueuedSec/);
  assert.throws(() => parseDeadline('1h'), /expected \{ afterLogicalDateSec/);
  assert.deepEqual(validateRunLimits({ dagRunTimeoutSec: 0 }), ['dagRunTimeoutSec must be a number of seconds > 0 (or left out for no limit), got 0']);
  assert.deepEqual(validateRunLimits({ dagRunTimeoutSec: 60, deadline: { reference: 'logical_date', offsetSec: 0 } }), []);
  assert.deepEqual(validateRunLimits({ deadline: { reference: 'started_at' as 'queued_at', offsetSec: 1 } }), ['deadline.reference must be logical_date or queued_at, got "started_at"']);
});

test('serialized: the callbacks a DAG file defines, task defaults included; none and no limits leave the form as it was', () => {
  const noop = () => undefined;
  const d = dag({ id: 'd', onFailure: noop, onDeadlineMissed: noop, dagRunTimeoutSec: 600, deadline: { afterLogicalDateSec: 3600 }, defaultTaskOptions: { onFailure: noop, queue: 'etl' } }, (b) => {
    b.task('a', { onRetry: noop }, noop);
    b.task('b', { onSuccess: noop, queue: 'gpu' }, noop);
  });
  const s = serializeDag(d, 'd.ts');
  assert.deepEqual(s.tasks.map((t) => t.callbacks), [['onFailure', 'onRetry'], ['onFailure', 'onSuccess']]);
  assert.deepEqual(s.callbacks, ['onFailure', 'onDeadlineMissed']);
  assert.equal(s.callbackQueue, 'etl');
  assert.equal(s.dagRunTimeoutSec, 600);
  assert.deepEqual(s.deadline, { reference: 'logical_date', offsetSec: 3600 });
  assert.deepEqual(validateDag(s), []);
  const plain = serializeDag(dag({ id: 'p' }, (b) => { b.task('a', noop); }), 'p.ts');
  for (const key of ['callbacks', 'callbackQueue', 'dagRunTimeoutSec', 'deadline']) assert.ok(!(key in plain), `${key} absent`);
  assert.ok(!('callbacks' in plain.tasks[0]!));
});

test('serialized: a callback that is not a function, or a bad deadline, is an import error naming the DAG and field', () => {
  const noop = () => undefined;
  assert.throws(() => serializeDag(dag({ id: 'd', onSuccess: 'notify' as never }, (b) => { b.task('a', noop); }), 'd.ts'), /DAG "d": onSuccess must be a function \(the callback\), got "notify"/);
  assert.throws(() => serializeDag(dag({ id: 'd' }, (b) => { b.task('a', { onRetry: 1 as never }, noop); }), 'd.ts'), /task "a" of DAG "d": onRetry must be a function/);
  assert.throws(() => serializeDag(dag({ id: 'd', deadline: { afterQueuedSec: Number.NaN } }, (b) => { b.task('a', noop); }), 'd.ts'), /DAG "d": deadline\.afterQueuedSec: must be a number of seconds >= 0/);
  assert.deepEqual(validateDag(serializeDag(dag({ id: 'd', dagRunTimeoutSec: -5 }, (b) => { b.task('a', noop); }), 'd.ts')), ['dagRunTimeoutSec must be a number of seconds > 0 (or left out for no limit), got -5']);
});
