import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickToQueue, type QueueCandidate } from '../../src/core/queueing.js';

const at = (min: number) => new Date(Date.UTC(2024, 0, 1, 0, min));
const c = (id: string, p: Partial<QueueCandidate> = {}): QueueCandidate => ({
  id,
  dagRunId: 'r1',
  pool: 'default',
  poolSlots: 1,
  priorityWeight: 1,
  scheduledAt: at(0),
  ...p,
});
const pick = (candidates: QueueCandidate[], opts: { pools?: [string, number][]; active?: [string, number][]; max?: [string, number][]; limit?: number } = {}) =>
  pickToQueue({
    candidates,
    openPoolSlots: new Map(opts.pools ?? [['default', 100]]),
    activeTasksPerRun: new Map(opts.active ?? []),
    maxActiveTasksPerRun: new Map(opts.max ?? []),
    limit: opts.limit ?? 100,
  });

test('orders by priority desc, then scheduledAt asc, then id', () => {
  const cands = [
    c('b', { scheduledAt: at(1) }),
    c('a', { scheduledAt: at(1) }),
    c('old', { scheduledAt: at(0) }),
    c('urgent', { priorityWeight: 10, scheduledAt: at(5) }),
  ];
  assert.deepEqual(pick(cands), ['urgent', 'old', 'a', 'b']);
});

test('respects pool slots, unknown pools and limit', () => {
  const cands = [c('a'), c('b'), c('c'), c('x', { pool: 'nope' })];
  assert.deepEqual(pick(cands, { pools: [['default', 2]] }), ['a', 'b']);
  assert.deepEqual(pick(cands, { limit: 1 }), ['a']);
  assert.deepEqual(pick(cands, { limit: 0 }), []);
});

test('a big task that does not fit does not block smaller lower-priority ones', () => {
  const cands = [c('big', { poolSlots: 5, priorityWeight: 10 }), c('small1'), c('small2'), c('small3')];
  assert.deepEqual(pick(cands, { pools: [['default', 2]] }), ['small1', 'small2']);
  assert.deepEqual(pick(cands, { pools: [['default', 6]] }), ['big', 'small1']);
});

test('respects max active tasks per run (missing = unlimited)', () => {
  const cands = [c('a1'), c('a2'), c('a3'), c('b1', { dagRunId: 'r2' }), c('b2', { dagRunId: 'r2' }), c('c1', { dagRunId: 'r3' })];
  const picked = pick(cands, { active: [['r1', 1]], max: [['r1', 2], ['r2', 1]] });
  assert.deepEqual(picked, ['a1', 'b1', 'c1']);
});

test('does not mutate its inputs', () => {
  const pools = new Map([['default', 1]]);
  const cands = [c('b'), c('a')];
  pickToQueue({ candidates: cands, openPoolSlots: pools, activeTasksPerRun: new Map(), maxActiveTasksPerRun: new Map(), limit: 5 });
  assert.equal(pools.get('default'), 1);
  assert.deepEqual(cands.map((x) => x.id), ['b', 'a']);
});
