// Backfill planning: which intervals fall in [from, to] (cron and fixed intervals, the DAG's
// startDate and endDate, the present), what --reprocess does with an existing run, how many
// runs a scheduler starts next, and the time-left estimate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backfillIntervals, BackfillPlanError, backfillStep, MAX_BACKFILL_RUNS, planBackfill, secondsLeft, type ExistingRun, type RunState } from '../../src/core/backfill-plan.js';
import type { Schedule } from '../../src/core/types.js';

const HOURLY: Schedule = { kind: 'cron', expression: '@hourly', timezone: 'UTC' };
const d = (s: string) => new Date(s);
const range = (over: Partial<Parameters<typeof backfillIntervals>[0]> = {}) => ({
  schedule: HOURLY, startDate: d('2026-01-01T00:00:00Z'), endDate: null, from: d('2026-01-01T02:00:00Z'), to: d('2026-01-01T05:00:00Z'), now: d('2026-03-01T00:00:00Z'), ...over,
});
const starts = (r: Parameters<typeof backfillIntervals>[0]) => backfillIntervals(r).map((iv) => iv.logicalDate.toISOString());

test('the intervals whose logical date is within [from, to], both ends included, each ending at the next fire', () => {
  const ivs = backfillIntervals(range());
  assert.deepEqual(ivs.map((iv) => iv.logicalDate.toISOString()), ['2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z', '2026-01-01T05:00:00.000Z']);
  assert.deepEqual(ivs.map((iv) => iv.end.toISOString()), ['2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z', '2026-01-01T05:00:00.000Z', '2026-01-01T06:00:00.000Z']);
  // Bounds between fire times: the first fire at or after from, the last at or before to.
  assert.deepEqual(starts(range({ from: d('2026-01-01T02:30:00Z'), to: d('2026-01-01T04:59:00Z') })), ['2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z']);
  // A single date.
  assert.deepEqual(starts(range({ from: d('2026-01-01T02:00:00Z'), to: d('2026-01-01T02:00:00Z') })), ['2026-01-01T02:00:00.000Z']);
});

test('fixed intervals are aligned to the startDate, not to from', () => {
  const every15m: Schedule = { kind: 'interval', seconds: 900 };
  assert.deepEqual(starts(range({ schedule: every15m, startDate: d('2026-01-01T00:05:00Z'), from: d('2026-01-01T00:10:00Z'), to: d('2026-01-01T00:50:00Z') })),
    ['2026-01-01T00:20:00.000Z', '2026-01-01T00:35:00.000Z', '2026-01-01T00:50:00.000Z']);
  assert.deepEqual(starts(range({ schedule: every15m, startDate: d('2026-01-01T00:05:00Z'), from: d('2026-01-01T00:05:00Z'), to: d('2026-01-01T00:05:00Z') })), ['2026-01-01T00:05:00.000Z']);
});

test('an interval that has not ended yet and one starting at the endDate are left out', () => {
  assert.deepEqual(starts(range({ now: d('2026-01-01T05:30:00Z') })), ['2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z']);
  assert.deepEqual(starts(range({ endDate: d('2026-01-01T05:00:00Z') })), ['2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z']);
});

test('bad ranges are refused with a message naming the fix', () => {
  const refused = (over: Partial<Parameters<typeof backfillIntervals>[0]>, pattern: RegExp) =>
    assert.throws(() => backfillIntervals(range(over)), (e: Error) => e instanceof BackfillPlanError && pattern.test(e.message), `${JSON.stringify(over)} → ${pattern}`);
  refused({ schedule: { kind: 'none' } }, /has no schedule.*keel dags trigger --logical-date/);
  refused({ from: d('2026-01-02T00:00:00Z'), to: d('2026-01-01T00:00:00Z') }, /--from 2026-01-02T00:00:00.000Z is after --to 2026-01-01T00:00:00.000Z/);
  refused({ from: d('2025-12-31T00:00:00Z') }, /before the DAG's startDate 2026-01-01T00:00:00.000Z; use --from 2026-01-01T00:00:00.000Z or later/);
  refused({ endDate: d('2026-01-01T04:00:00Z') }, /after the DAG's endDate 2026-01-01T04:00:00.000Z; use --to 2026-01-01T04:00:00.000Z or earlier/);
  refused({ now: d('2026-01-01T04:30:00Z') }, /--to 2026-01-01T05:00:00.000Z is in the future/);
  refused({ from: d('2026-01-01T02:10:00Z'), to: d('2026-01-01T02:50:00Z') }, /no complete interval .* widen the range/);
  const everyMinute: Schedule = { kind: 'cron', expression: '* * * * *', timezone: 'UTC' };
  refused({ schedule: everyMinute, from: d('2026-01-01T00:00:00Z'), to: d('2026-02-01T00:00:00Z') }, new RegExp(`more than ${MAX_BACKFILL_RUNS} intervals; split it`));
});

const IVS = backfillIntervals(range());
const existing = (entries: [string, RunState][]) => new Map<string, ExistingRun>(entries.map(([at, state], i) => [at, { id: String(100 + i), state }]));
const RUNS = existing([['2026-01-01T02:00:00.000Z', 'success'], ['2026-01-01T03:00:00.000Z', 'failed'], ['2026-01-01T04:00:00.000Z', 'running']]);
const actions = (reprocess: 'none' | 'failed' | 'all') => planBackfill(IVS, RUNS, reprocess).map((p) => [p.action, p.runId]);

test('reprocess: none keeps every existing run, failed clears the failed ones, all every finished one; an in-flight run is always kept', () => {
  assert.deepEqual(actions('none'), [['skip', '100'], ['skip', '101'], ['skip', '102'], ['create', null]]);
  assert.deepEqual(actions('failed'), [['skip', '100'], ['clear', '101'], ['skip', '102'], ['create', null]]);
  assert.deepEqual(actions('all'), [['clear', '100'], ['clear', '101'], ['skip', '102'], ['create', null]]);
  const reasons = planBackfill(IVS, RUNS, 'none').map((p) => p.reason);
  assert.deepEqual(reasons, ['run 100 exists (success); --reprocess all would run it again', 'run 101 exists (failed); --reprocess failed would run it again', 'run 102 is running', null]);
  assert.equal(planBackfill(IVS, existing([['2026-01-01T02:00:00.000Z', 'queued']]), 'all')[0]!.reason, 'run 100 is queued');
  assert.equal(planBackfill(IVS, RUNS, 'failed')[0]!.reason, 'run 100 succeeded; --reprocess all would run it again');
  const first = planBackfill(IVS, new Map(), 'none')[0]!;
  assert.deepEqual([first.logicalDate, first.start, first.end], [IVS[0]!.logicalDate, IVS[0]!.start, IVS[0]!.end]);
});

test('a scheduler starts runs up to max_active_runs and ends the backfill once nothing is planned or active', () => {
  assert.deepEqual(backfillStep({ maxActiveRuns: 3, active: 0, planned: 10 }), { start: 3, done: false });
  assert.deepEqual(backfillStep({ maxActiveRuns: 3, active: 2, planned: 10 }), { start: 1, done: false });
  assert.deepEqual(backfillStep({ maxActiveRuns: 3, active: 3, planned: 10 }), { start: 0, done: false });
  // More active than allowed (an operator cleared a run of it by hand): none started, never a negative count.
  assert.deepEqual(backfillStep({ maxActiveRuns: 1, active: 2, planned: 1 }), { start: 0, done: false });
  assert.deepEqual(backfillStep({ maxActiveRuns: 3, active: 0, planned: 2 }), { start: 2, done: false });
  assert.deepEqual(backfillStep({ maxActiveRuns: 3, active: 1, planned: 0 }), { start: 0, done: false });
  assert.deepEqual(backfillStep({ maxActiveRuns: 3, active: 0, planned: 0 }), { start: 0, done: true });
});

test('time left: at the pace of the runs that ended while watching; unknown before the first', () => {
  assert.equal(secondsLeft({ total: 10, ended: 2, doneAtStart: 2, elapsedSec: 30 }), null);
  assert.equal(secondsLeft({ total: 10, ended: 4, doneAtStart: 2, elapsedSec: 20 }), 60);
  assert.equal(secondsLeft({ total: 10, ended: 10, doneAtStart: 0, elapsedSec: 20 }), 0);
  assert.equal(secondsLeft({ total: 10, ended: 1, doneAtStart: 0, elapsedSec: 0 }), null);
});
