import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dueIntervals,
  intervalAfter,
  nextDueAt,
  parseScheduleInput,
  validateSchedule,
  type DataInterval,
} from '../../src/core/schedule.js';
import type { Schedule } from '../../src/core/types.js';

const d = (iso: string) => new Date(iso);
const utc = (expression: string): Schedule => ({ kind: 'cron', expression, timezone: 'UTC' });
const berlin = (expression: string): Schedule => ({ kind: 'cron', expression, timezone: 'Europe/Berlin' });
const every = (seconds: number): Schedule => ({ kind: 'interval', seconds });
const iso = (iv: DataInterval) => [iv.start.toISOString(), iv.end.toISOString()];

test('validateSchedule accepts good schedules', () => {
  for (const s of [
    utc('0 * * * *'),
    utc('*/15 9-17 * * MON-FRI'),
    berlin('0 2 * * *'),
    ...['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually'].map(utc),
    every(1),
    every(86400),
    { kind: 'none' } as const,
  ]) {
    assert.deepEqual(validateSchedule(s), [], JSON.stringify(s));
  }
});

test('validateSchedule explains bad schedules', () => {
  assert.deepEqual(validateSchedule(utc('61 * * * *')), [
    'invalid cron expression "61 * * * *": Invalid value for minute: 61; use 5 fields (minute hour day month weekday) or a preset such as @hourly',
  ]);
  const cases: [Schedule, RegExp][] = [
    [utc('0 0 * * * *'), /^invalid cron expression "0 0 \* \* \* \*": .*5 parts.*; use 5 fields/],
    [utc('* * * *'), /^invalid cron expression/],
    [utc('0 25 * * *'), /hour: 25/],
    [utc(''), /non-empty/],
    [utc('@reboot'), /unknown preset "@reboot"; use one of @hourly/],
    [utc('@once'), /@once preset is not supported; use no schedule \(null\)/],
    [utc('0 0 30 2 *'), /never fires/],
    [{ kind: 'cron', expression: '0 2 * * *', timezone: 'Mars/Base' }, /^unknown time zone "Mars\/Base"/],
    [every(0), /^interval seconds must be a positive integer, got 0$/],
    [every(1.5), /positive integer, got 1.5/],
    [every(-60), /positive integer/],
    [{ kind: 'weekly' } as unknown as Schedule, /unknown schedule kind "weekly"/],
  ];
  for (const [s, re] of cases) {
    const errors = validateSchedule(s);
    assert.equal(errors.length, 1, `${JSON.stringify(s)}: ${errors.join(' | ')}`);
    assert.match(errors[0] ?? '', re);
  }
});

test('parseScheduleInput', () => {
  const ok: [Parameters<typeof parseScheduleInput>[0], Schedule][] = [
    [null, { kind: 'none' }],
    [undefined, { kind: 'none' }],
    ['none', { kind: 'none' }],
    ['manual', { kind: 'none' }],
    ['@daily', utc('@daily')],
    ['@Hourly', utc('@hourly')],
    ['  0  6 * * 1 ', utc('0 6 * * 1')],
    [{ cron: '0 2 * * *', timezone: 'Europe/Berlin' }, berlin('0 2 * * *')],
    [{ cron: '@weekly' }, utc('@weekly')],
    [{ every: 900 }, every(900)],
    [{ every: '900' }, every(900)],
    [{ every: '30s' }, every(30)],
    [{ every: '15m' }, every(900)],
    [{ every: '2h' }, every(7200)],
    [{ every: '1d' }, every(86400)],
    [{ every: '1h30m' }, every(5400)],
  ];
  for (const [input, expected] of ok) assert.deepEqual(parseScheduleInput(input), expected, JSON.stringify(input));

  const bad: [unknown, RegExp][] = [
    ['hourly', /unrecognized schedule "hourly"; use a cron expression/],
    ['', /unrecognized schedule/],
    ['@once', /@once preset is not supported/],
    ['61 * * * *', /invalid cron expression "61 \* \* \* \*": Invalid value for minute: 61; use 5 fields/],
    [{ cron: '0 2 * * *', timezone: 'Europe/Berlinn' }, /unknown time zone "Europe\/Berlinn"/],
    [{ every: '15x' }, /invalid interval "15x"; use seconds \(900\) or a duration such as/],
    [{ every: 0 }, /interval seconds must be a positive integer, got 0/],
    [{ every: 2.5 }, /positive integer/],
    [{ every: '15m', cron: '@daily' }, /unrecognized schedule/],
    [{ every: '15m', at: 3 }, /unknown schedule option\(s\) at/],
    [42, /unrecognized schedule 42/],
  ];
  for (const [input, re] of bad) {
    assert.throws(() => parseScheduleInput(input as Parameters<typeof parseScheduleInput>[0]), re, JSON.stringify(input));
  }
});

test('intervalAfter: cron start is inclusive of startDate, end is the next fire', () => {
  const hourly = utc('@hourly');
  assert.deepEqual(iso(intervalAfter(hourly, d('2024-01-01T10:00:00Z'), null)!), ['2024-01-01T10:00:00.000Z', '2024-01-01T11:00:00.000Z']);
  assert.deepEqual(iso(intervalAfter(hourly, d('2024-01-01T10:00:00.001Z'), null)!), ['2024-01-01T11:00:00.000Z', '2024-01-01T12:00:00.000Z']);
  assert.deepEqual(iso(intervalAfter(hourly, d('2024-01-01T09:59:59.999Z'), null)!), ['2024-01-01T10:00:00.000Z', '2024-01-01T11:00:00.000Z']);
  // after is exclusive
  assert.deepEqual(iso(intervalAfter(hourly, d('2024-01-01T10:00:00Z'), d('2024-01-01T12:00:00Z'))!), ['2024-01-01T13:00:00.000Z', '2024-01-01T14:00:00.000Z']);
  // after before startDate: startDate wins
  assert.deepEqual(iso(intervalAfter(hourly, d('2024-01-01T10:00:00Z'), d('2023-01-01T00:00:00Z'))!), ['2024-01-01T10:00:00.000Z', '2024-01-01T11:00:00.000Z']);
  const iv = intervalAfter(hourly, d('2024-01-01T10:00:00Z'), null)!;
  assert.equal(iv.logicalDate.getTime(), iv.start.getTime());
  assert.equal(intervalAfter({ kind: 'none' }, d('2024-01-01T00:00:00Z'), null), null);
});

test('intervalAfter: fixed intervals are aligned to startDate', () => {
  const s = every(3600);
  const start = d('2024-01-01T00:15:00Z');
  assert.deepEqual(iso(intervalAfter(s, start, null)!), ['2024-01-01T00:15:00.000Z', '2024-01-01T01:15:00.000Z']);
  assert.deepEqual(iso(intervalAfter(s, start, d('2024-01-01T00:15:00Z'))!), ['2024-01-01T01:15:00.000Z', '2024-01-01T02:15:00.000Z']);
  assert.deepEqual(iso(intervalAfter(s, start, d('2024-01-01T01:00:00Z'))!), ['2024-01-01T01:15:00.000Z', '2024-01-01T02:15:00.000Z']);
  assert.deepEqual(iso(intervalAfter(s, start, d('2023-12-31T00:00:00Z'))!), ['2024-01-01T00:15:00.000Z', '2024-01-01T01:15:00.000Z']);
});

test('presets produce the usual intervals', () => {
  const start = d('2024-01-10T12:34:00Z'); // a Wednesday
  const cases: [string, string, string][] = [
    ['@hourly', '2024-01-10T13:00:00.000Z', '2024-01-10T14:00:00.000Z'],
    ['@daily', '2024-01-11T00:00:00.000Z', '2024-01-12T00:00:00.000Z'],
    ['@midnight', '2024-01-11T00:00:00.000Z', '2024-01-12T00:00:00.000Z'],
    ['@weekly', '2024-01-14T00:00:00.000Z', '2024-01-21T00:00:00.000Z'],
    ['@monthly', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['@yearly', '2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['@annually', '2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
  ];
  for (const [preset, s, e] of cases) assert.deepEqual(iso(intervalAfter(utc(preset), start, null)!), [s, e], preset);
});

test('cron in Europe/Berlin across DST changes', () => {
  const s = berlin('0 2 * * *');
  const due = (from: string, to: string) =>
    dueIntervals({ schedule: s, startDate: d(from), endDate: null, lastLogicalDate: null, now: d(to), catchup: true, limit: 10 }).map(iso);
  // Spring forward (31 March 2024): 02:00 does not exist, the run moves to 03:00 CEST that day.
  assert.deepEqual(due('2024-03-29T00:00:00Z', '2024-04-01T12:00:00Z'), [
    ['2024-03-29T01:00:00.000Z', '2024-03-30T01:00:00.000Z'],
    ['2024-03-30T01:00:00.000Z', '2024-03-31T01:00:00.000Z'],
    ['2024-03-31T01:00:00.000Z', '2024-04-01T00:00:00.000Z'], // 23 real hours
  ]);
  // Fall back (27 October 2024): 02:00 happens twice, the run fires once (first occurrence).
  assert.deepEqual(due('2024-10-26T00:00:00Z', '2024-10-28T12:00:00Z'), [
    ['2024-10-26T00:00:00.000Z', '2024-10-27T00:00:00.000Z'],
    ['2024-10-27T00:00:00.000Z', '2024-10-28T01:00:00.000Z'], // 25 real hours
  ]);
  // Without catch-up the latest interval is found backwards from now, and agrees.
  const latest = dueIntervals({ schedule: s, startDate: d('2020-01-01T00:00:00Z'), endDate: null, lastLogicalDate: null, now: d('2024-04-01T12:00:00Z'), catchup: false, limit: 10 });
  assert.deepEqual(latest.map(iso), [['2024-03-31T01:00:00.000Z', '2024-04-01T00:00:00.000Z']]);
});

test('without catchup the latest due interval always equals the last of the catch-up list', () => {
  const schedules = [berlin('*/30 * * * *'), berlin('0 2 * * *'), berlin('15 1-3 * * *'), utc('@hourly'), { kind: 'cron', expression: '0 9 * * 1-5', timezone: 'America/New_York' } as Schedule, every(5400)];
  const startDate = d('2024-10-25T22:10:00Z');
  for (const schedule of schedules) {
    const all = dueIntervals({ schedule, startDate, endDate: null, lastLogicalDate: null, now: d('2024-11-08T00:00:00Z'), catchup: true, limit: 10_000 });
    // Consecutive intervals tile time without gaps or overlap.
    for (let i = 1; i < all.length; i++) assert.equal(all[i]!.start.getTime(), all[i - 1]!.end.getTime(), JSON.stringify(schedule));
    // Sample `now` around the start, the Berlin fall-back night and the New York one.
    const windows = ['2024-10-25T22:00:00Z', '2024-10-26T22:00:00Z', '2024-11-03T03:00:00Z'];
    for (const w of windows) for (let m = 0; m < 8 * 60; m += 7) {
      const now = new Date(d(w).getTime() + m * 60_000);
      const expected = all.filter((iv) => iv.end <= now).at(-1);
      const got = dueIntervals({ schedule, startDate, endDate: null, lastLogicalDate: null, now, catchup: false, limit: 1 });
      assert.deepEqual(got.map(iso), expected ? [iso(expected)] : [], `${JSON.stringify(schedule)} at ${now.toISOString()}`);
    }
  }
});

test('catchup creates every missed interval oldest first, up to limit', () => {
  const base = { schedule: utc('@daily'), startDate: d('2024-01-01T00:00:00Z'), endDate: null, now: d('2024-01-05T12:00:00Z') };
  assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: null, catchup: true, limit: 10 }).map((iv) => iv.start.toISOString().slice(0, 10)), [
    '2024-01-01',
    '2024-01-02',
    '2024-01-03',
    '2024-01-04',
  ]);
  assert.equal(dueIntervals({ ...base, lastLogicalDate: null, catchup: true, limit: 2 }).length, 2);
  assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: null, catchup: true, limit: 0 }), []);
  assert.deepEqual(
    dueIntervals({ ...base, lastLogicalDate: d('2024-01-02T00:00:00Z'), catchup: true, limit: 10 }).map((iv) => iv.start.toISOString().slice(0, 10)),
    ['2024-01-03', '2024-01-04'],
  );
  // Without catchup only the latest, and only when it is new.
  assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: null, catchup: false, limit: 10 }).map(iso), [['2024-01-04T00:00:00.000Z', '2024-01-05T00:00:00.000Z']]);
  assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: d('2024-01-02T00:00:00Z'), catchup: false, limit: 10 }).map((iv) => iv.start.toISOString()), ['2024-01-04T00:00:00.000Z']);
  assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: d('2024-01-04T00:00:00Z'), catchup: false, limit: 10 }), []);
  // An interval is due exactly when its end is reached.
  assert.equal(dueIntervals({ ...base, now: d('2024-01-02T00:00:00Z'), lastLogicalDate: null, catchup: true, limit: 10 }).length, 1);
  assert.equal(dueIntervals({ ...base, now: d('2024-01-01T23:59:59.999Z'), lastLogicalDate: null, catchup: true, limit: 10 }).length, 0);
  // Nothing before startDate.
  assert.deepEqual(dueIntervals({ ...base, now: d('2023-06-01T00:00:00Z'), lastLogicalDate: null, catchup: false, limit: 10 }), []);
});

test('an every-minute cron since 2000 without catchup is fast', () => {
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) {
    const now = new Date(Date.UTC(2025, 5, 1, 12, 0, 30) + i * 60_000);
    const due = dueIntervals({ schedule: utc('* * * * *'), startDate: d('2000-01-01T00:00:00Z'), endDate: null, lastLogicalDate: null, now, catchup: false, limit: 100 });
    assert.equal(due.length, 1);
    assert.equal(due[0]!.end.getTime(), Math.floor(now.getTime() / 60_000) * 60_000);
    assert.equal(due[0]!.end.getTime() - due[0]!.start.getTime(), 60_000);
    nextDueAt({ schedule: utc('* * * * *'), startDate: d('2000-01-01T00:00:00Z'), endDate: null, lastLogicalDate: due[0]!.start, now, catchup: false });
  }
  const perCall = (performance.now() - t0) / 100;
  assert.ok(perCall < 20, `took ${perCall.toFixed(2)} ms per call`);
  // With catchup the backlog is paged from the start, limit at a time.
  const first = dueIntervals({ schedule: utc('* * * * *'), startDate: d('2000-01-01T00:00:00Z'), endDate: null, lastLogicalDate: null, now: d('2025-06-01T00:00:00Z'), catchup: true, limit: 3 });
  assert.deepEqual(first.map((iv) => iv.start.toISOString()), ['2000-01-01T00:00:00.000Z', '2000-01-01T00:01:00.000Z', '2000-01-01T00:02:00.000Z']);
});

test('fixed interval schedules', () => {
  const base = { schedule: every(3600), startDate: d('2024-01-01T00:15:00Z'), endDate: null, now: d('2024-01-01T03:20:00Z') };
  assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: null, catchup: true, limit: 10 }).map((iv) => iv.start.toISOString()), [
    '2024-01-01T00:15:00.000Z',
    '2024-01-01T01:15:00.000Z',
    '2024-01-01T02:15:00.000Z',
  ]);
  assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: null, catchup: false, limit: 10 }).map(iso), [['2024-01-01T02:15:00.000Z', '2024-01-01T03:15:00.000Z']]);
  assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: d('2024-01-01T02:15:00Z'), catchup: false, limit: 10 }), []);
  // every second since 2000, no catchup: arithmetic, not iteration
  const t0 = performance.now();
  const due = dueIntervals({ schedule: every(1), startDate: d('2000-01-01T00:00:00Z'), endDate: null, lastLogicalDate: null, now: d('2025-01-01T00:00:00.500Z'), catchup: false, limit: 1 });
  assert.deepEqual(due.map(iso), [['2024-12-31T23:59:59.000Z', '2025-01-01T00:00:00.000Z']]);
  assert.ok(performance.now() - t0 < 20);
});

test('endDate: no interval starts at or after it', () => {
  for (const schedule of [utc('@daily'), every(86400)]) {
    const base = { schedule, startDate: d('2024-01-01T00:00:00Z'), endDate: d('2024-01-03T00:00:00Z'), now: d('2024-01-10T00:00:00Z') };
    assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: null, catchup: true, limit: 10 }).map((iv) => iv.start.toISOString()), ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z']);
    // Without catchup: the latest interval that still starts before endDate.
    assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: null, catchup: false, limit: 10 }).map(iso), [['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z']]);
    assert.deepEqual(dueIntervals({ ...base, lastLogicalDate: d('2024-01-02T00:00:00Z'), catchup: false, limit: 10 }), []);
    assert.equal(nextDueAt({ ...base, lastLogicalDate: d('2024-01-02T00:00:00Z'), catchup: true }), null);
    assert.equal(nextDueAt({ ...base, lastLogicalDate: d('2024-01-02T00:00:00Z'), catchup: false }), null);
    // An interval starting before endDate runs in full even if it ends after it.
    const mid = { ...base, endDate: d('2024-01-02T12:00:00Z') };
    assert.equal(dueIntervals({ ...mid, lastLogicalDate: null, catchup: true, limit: 10 }).length, 2);
  }
});

test('nextDueAt', () => {
  const daily = { schedule: utc('@daily'), startDate: d('2024-01-01T00:00:00Z'), endDate: null };
  const at = (x: Date | null) => x?.toISOString() ?? null;
  assert.equal(nextDueAt({ ...daily, schedule: { kind: 'none' }, lastLogicalDate: null, now: d('2024-01-05T00:00:00Z'), catchup: true }), null);
  // Before the first interval ends.
  assert.equal(at(nextDueAt({ ...daily, lastLogicalDate: null, now: d('2023-12-01T00:00:00Z'), catchup: true })), '2024-01-02T00:00:00.000Z');
  assert.equal(at(nextDueAt({ ...daily, lastLogicalDate: null, now: d('2023-12-01T00:00:00Z'), catchup: false })), '2024-01-02T00:00:00.000Z');
  // A backlog: catchup points at the oldest missing interval, no catchup at the latest.
  assert.equal(at(nextDueAt({ ...daily, lastLogicalDate: null, now: d('2024-01-05T12:00:00Z'), catchup: true })), '2024-01-02T00:00:00.000Z');
  assert.equal(at(nextDueAt({ ...daily, lastLogicalDate: null, now: d('2024-01-05T12:00:00Z'), catchup: false })), '2024-01-05T00:00:00.000Z');
  // Up to date: the end of the interval in progress.
  assert.equal(at(nextDueAt({ ...daily, lastLogicalDate: d('2024-01-04T00:00:00Z'), now: d('2024-01-05T12:00:00Z'), catchup: true })), '2024-01-06T00:00:00.000Z');
  assert.equal(at(nextDueAt({ ...daily, lastLogicalDate: d('2024-01-04T00:00:00Z'), now: d('2024-01-05T12:00:00Z'), catchup: false })), '2024-01-06T00:00:00.000Z');
  // Without catchup, at the returned time exactly that interval is due.
  const now = d('2024-01-05T12:00:00Z');
  const when = nextDueAt({ ...daily, lastLogicalDate: d('2024-01-04T00:00:00Z'), now, catchup: false })!;
  const due = dueIntervals({ ...daily, lastLogicalDate: d('2024-01-04T00:00:00Z'), now: when, catchup: false, limit: 5 });
  assert.deepEqual(due.map((iv) => iv.end.toISOString()), [when.toISOString()]);
});
