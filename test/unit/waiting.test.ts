// The reasons src/core/waiting.ts gives: each hold named once, the most basic cause first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainWaiting, type RunWaitFacts, type TaskWaitFacts } from '../../src/core/waiting.js';

const run = (o: Partial<RunWaitFacts> = {}): RunWaitFacts => ({
  runState: 'running', dagId: 'd', dagPaused: false, maintenance: false, maintenanceMessage: null,
  maxActiveRuns: 16, runningRunsOfDag: 1, queuedRunsBefore: 0, maxActiveTasks: 16, activeTasksOfRun: 0, ...o,
});
const task = (o: Partial<TaskWaitFacts> = {}): TaskWaitFacts => ({
  taskId: 't', state: 'scheduled', upstream: [], pool: 'default_pool', poolSlots: 1, poolTotalSlots: 128, poolUsedSlots: 0,
  queue: 'default', workersOnQueue: 1, freeWorkerSlotsOnQueue: 4, servedQueues: ['default'], nextRetryAt: null, tryNumber: 1, maxTries: 3, ...o,
});
const why = (t: Partial<TaskWaitFacts>, r: Partial<RunWaitFacts> = {}) => explainWaiting(run(r), [task(t)]).tasks.t;

test('a scheduled task names its pool problem: missing, too small, full; then the run budget', () => {
  assert.match(why({ pool: 'warehouse', poolTotalSlots: null })!, /^pool "warehouse" does not exist/);
  assert.match(why({ poolSlots: 4, poolTotalSlots: 2 })!, /needs 4 slots of pool "default_pool", which has only 2/);
  assert.match(why({ poolTotalSlots: 2, poolUsedSlots: 2 })!, /pool "default_pool" is full: 2 of 2 slots in use/);
  assert.match(why({}, { maxActiveTasks: 2, activeTasksOfRun: 2 })!, /maxActiveTasks is 2/);
  assert.equal(why({}), 'waiting for a scheduler to queue it');
});

test('a queued task names the queue nobody takes, and which queues are taken', () => {
  assert.match(why({ state: 'queued', queue: 'gpu', workersOnQueue: 0, servedQueues: [] })!, /no live worker takes queue "gpu" \(no worker is alive\)/);
  assert.match(why({ state: 'queued', queue: 'gpu', workersOnQueue: 0, servedQueues: ['a', 'b'] })!, /live workers serve "a", "b"/);
  assert.match(why({ state: 'queued', freeWorkerSlotsOnQueue: 0, workersOnQueue: 2 })!, /every slot of the 2 worker\(s\) on queue "default" is busy/);
});

test('a pending task names only its unfinished upstream tasks with their states', () => {
  const r = explainWaiting(run(), [task({ taskId: 'a', state: 'success' }), task({ taskId: 'b', state: 'running' }), task({ taskId: 'c', state: 'pending', upstream: ['a', 'b'] })]);
  assert.equal(r.tasks.c, 'waiting for upstream b (running)');
  assert.equal(r.tasks.a, undefined);
  assert.equal(r.tasks.b, undefined, 'a running task does not wait');
});

test('a run-wide hold is named once, for the run; queued tasks still say why no worker takes them', () => {
  const r = explainWaiting(run({ dagPaused: true }), [task({ taskId: 's' }), task({ taskId: 'q', state: 'queued', workersOnQueue: 0, servedQueues: [] })]);
  assert.match(r.run!, /DAG "d" is paused/);
  assert.equal(r.tasks.s, undefined);
  assert.match(r.tasks.q!, /no live worker/);
  assert.match(explainWaiting(run({ maintenance: true, maintenanceMessage: 'db upgrade', dagPaused: true }), []).run!, /^maintenance mode is on \(db upgrade\)/);
});

test('a queued run waits for a run slot or for earlier runs; a finished run waits for nothing', () => {
  assert.match(explainWaiting(run({ runState: 'queued', maxActiveRuns: 1, runningRunsOfDag: 1 }), []).run!, /1 of the DAG's maxActiveRuns 1 runs are running/);
  assert.match(explainWaiting(run({ runState: 'queued', runningRunsOfDag: 0, queuedRunsBefore: 2 }), []).run!, /2 queued run\(s\) with an earlier logical date/);
  assert.deepEqual(explainWaiting(run({ runState: 'failed', dagPaused: true }), [task()]), { run: null, tasks: {} });
});
