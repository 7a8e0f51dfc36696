// Schedules and data intervals (Airflow semantics): a run covers [start, end), its logical
// date is `start`, and it becomes due once `end` has passed. Pure: "now" is always passed in.
import { Cron } from 'croner';
import type { Schedule } from './types.js';

export interface DataInterval {
  /** Equals `start` (a separate Date object, so mutating one cannot change the other). */
  logicalDate: Date;
  start: Date;
  end: Date;
}

const PRESETS = ['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually'];
const CRON_HINT = 'use 5 fields (minute hour day month weekday) or a preset such as @hourly';

// ---------------------------------------------------------------------------------------------
// Validation and parsing

function timezoneError(tz: unknown): string | null {
  if (typeof tz !== 'string' || tz.trim() === '') {
    return `time zone must be an IANA name such as "UTC" or "Europe/Berlin", got ${JSON.stringify(tz)}`;
  }
  try {
    // Intl is the same database croner uses; it throws RangeError for unknown zones.
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return null;
  } catch {
    return `unknown time zone "${tz}"; use an IANA name such as "UTC" or "Europe/Berlin"`;
  }
}

/** Empty when the schedule is usable; otherwise messages a DAG author can act on. */
export function validateSchedule(s: Schedule): string[] {
  if (s === null || typeof s !== 'object') return [`schedule must be an object, got ${JSON.stringify(s)}`];
  switch (s.kind) {
    case 'none':
      return [];
    case 'interval':
      return Number.isInteger(s.seconds) && s.seconds > 0
        ? []
        : [`interval seconds must be a positive integer, got ${String(s.seconds)}`];
    case 'cron': {
      const errors: string[] = [];
      const tzError = timezoneError(s.timezone);
      if (tzError) errors.push(tzError);
      const expr = s.expression;
      if (typeof expr !== 'string' || expr.trim() === '') {
        errors.push(`cron expression must be a non-empty string; ${CRON_HINT}`);
        return errors;
      }
      const presetError = checkPreset(expr);
      if (presetError) {
        errors.push(presetError);
        return errors;
      }
      try {
        const cron = makeCron(expr, tzError ? 'UTC' : s.timezone);
        // A 5-field expression has no year, so one fire means fires forever; none means a date
        // that never exists (e.g. Feb 30), which would silently never run.
        if (cron.nextRun(new Date(0)) === null) {
          errors.push(`cron expression "${expr}" never fires (no date matches it); check the day and month fields`);
        }
      } catch (e) {
        errors.push(`invalid cron expression "${expr}": ${cronReason(e)}; ${CRON_HINT}`);
      }
      return errors;
    }
    default:
      return [`unknown schedule kind ${JSON.stringify((s as { kind?: unknown }).kind)}; use "cron", "interval" or "none"`];
  }
}

function checkPreset(expr: string): string | null {
  const e = expr.trim().toLowerCase();
  if (!e.startsWith('@') || PRESETS.includes(e)) return null;
  if (e === '@once') {
    return 'the @once preset is not supported; use no schedule (null) and trigger the DAG manually';
  }
  return `unknown preset "${expr.trim()}"; use one of ${PRESETS.join(', ')} or a 5-field cron expression`;
}

function cronReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^CronPattern:\s*/, '');
}

export type ScheduleInput = string | { cron: string; timezone?: string } | { every: string | number } | null | undefined;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "15m", "2h", "1d", "1h30m" or a bare number of seconds. */
export function parseDuration(every: string | number): number {
  if (typeof every === 'number') return every;
  const text = every.trim().toLowerCase();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+[smhd])+$/.test(text)) {
    throw new Error(`invalid interval ${JSON.stringify(every)}; use seconds (900) or a duration such as "30s", "15m", "2h", "1d"`);
  }
  let total = 0;
  for (const m of text.matchAll(/(\d+)([smhd])/g)) total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] ?? 0);
  return total;
}

/**
 * Turns what a DAG author writes into a Schedule, or throws an Error that says what to write
 * instead. Strings are cron expressions in UTC; use { cron, timezone } for local time.
 */
export function parseScheduleInput(input: ScheduleInput): Schedule {
  const schedule = toSchedule(input);
  const errors = validateSchedule(schedule);
  if (errors.length > 0) throw new Error(errors.join('; '));
  return schedule;
}

function toSchedule(input: ScheduleInput): Schedule {
  if (input === null || input === undefined) return { kind: 'none' };
  const usage =
    'use a cron expression such as "0 * * * *", a preset such as "@daily", { cron, timezone }, { every: "15m" }, or null for manual runs only';
  if (typeof input === 'string') {
    const text = input.trim();
    const lower = text.toLowerCase();
    if (lower === 'none' || lower === 'manual') return { kind: 'none' };
    if (text.startsWith('@')) return { kind: 'cron', expression: lower, timezone: 'UTC' };
    if (/\s/.test(text)) return { kind: 'cron', expression: text.split(/\s+/).join(' '), timezone: 'UTC' };
    throw new Error(`unrecognized schedule ${JSON.stringify(input)}; ${usage}`);
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new Error(`unrecognized schedule ${JSON.stringify(input)}; ${usage}`);
  }
  const keys = Object.keys(input);
  if ('cron' in input && !('every' in input)) {
    const extra = keys.filter((k) => k !== 'cron' && k !== 'timezone');
    if (extra.length > 0) throw new Error(`unknown schedule option(s) ${extra.join(', ')}; a cron schedule takes { cron, timezone }`);
    if (typeof input.cron !== 'string') throw new Error(`schedule cron must be a string; ${usage}`);
    const text = input.cron.trim();
    const expression = text.startsWith('@') ? text.toLowerCase() : text.split(/\s+/).join(' ');
    return { kind: 'cron', expression, timezone: input.timezone ?? 'UTC' };
  }
  if ('every' in input && !('cron' in input)) {
    const extra = keys.filter((k) => k !== 'every');
    if (extra.length > 0) throw new Error(`unknown schedule option(s) ${extra.join(', ')}; an interval schedule takes { every }`);
    if (typeof input.every !== 'number' && typeof input.every !== 'string') {
      throw new Error(`schedule every must be seconds or a duration such as "15m", got ${JSON.stringify(input.every)}`);
    }
    return { kind: 'interval', seconds: parseDuration(input.every) };
  }
  throw new Error(`unrecognized schedule ${JSON.stringify(input)}; ${usage}`);
}

// ---------------------------------------------------------------------------------------------
// Cron helpers. croner works in whole seconds and 5-part mode pins seconds to 0, so every fire
// time is a whole minute; nextRun(d) is strictly after d, previousRuns(1, d) strictly before d.

const cronCache = new Map<string, Cron>();

function makeCron(expression: string, timezone: string): Cron {
  const key = `${timezone}\n${expression}`;
  let cron = cronCache.get(key);
  if (!cron) {
    // No callback and paused: croner never starts a timer, it only computes dates.
    cron = new Cron(expression, { mode: '5-part', timezone, paused: true });
    if (cronCache.size >= 1000) cronCache.clear(); // bounded memo; parsing again is cheap
    cronCache.set(key, cron);
  }
  return cron;
}

function cronOf(s: Extract<Schedule, { kind: 'cron' }>): Cron {
  try {
    return makeCron(s.expression, s.timezone);
  } catch (e) {
    throw new Error(`invalid cron expression "${s.expression}": ${cronReason(e)}; ${CRON_HINT}`, { cause: e });
  }
}

/** First fire time >= t. */
function fireAtOrAfter(cron: Cron, t: Date): Date | null {
  return cron.nextRun(new Date(t.getTime() - 1));
}

/** First fire time > t. */
function fireAfter(cron: Cron, t: Date): Date | null {
  return cron.nextRun(t);
}

/** Last fire time <= t. */
function fireAtOrBefore(cron: Cron, t: Date): Date | null {
  const ms = t.getTime();
  let candidate: Date | undefined = cron.previousRuns(1, new Date(ms + 1))[0];
  // Backward search around DST is the least travelled path in any cron library: step back if
  // it overshot, then walk forward with nextRun (the reference direction) to the last fire <= t.
  for (let guard = 0; candidate && candidate.getTime() > ms && guard < 10; guard++) {
    candidate = cron.previousRuns(1, candidate)[0];
  }
  if (!candidate || candidate.getTime() > ms) return null;
  for (;;) {
    const next = cron.nextRun(candidate);
    if (!next || next.getTime() > ms) return candidate;
    candidate = next;
  }
}

/** Last fire time < t. */
function fireBefore(cron: Cron, t: Date): Date | null {
  return fireAtOrBefore(cron, new Date(t.getTime() - 1));
}

function cronInterval(cron: Cron, start: Date | null): DataInterval | null {
  if (!start) return null;
  const end = fireAfter(cron, start);
  return end ? { logicalDate: new Date(start), start, end } : null;
}

function fixedInterval(startDate: Date, seconds: number, k: number): DataInterval {
  const start = new Date(startDate.getTime() + k * seconds * 1000);
  return { logicalDate: new Date(start), start, end: new Date(start.getTime() + seconds * 1000) };
}

// ---------------------------------------------------------------------------------------------
// Data intervals

/**
 * The first data interval starting at or after `startDate` and, when `after` (the last logical
 * date already created) is given, strictly after it. Cron intervals run from one fire time to
 * the next; fixed intervals are aligned to `startDate`.
 */
export function intervalAfter(s: Schedule, startDate: Date, after: Date | null): DataInterval | null {
  switch (s.kind) {
    case 'none':
      return null;
    case 'interval': {
      const stepMs = s.seconds * 1000;
      const k = after && after >= startDate ? Math.floor((after.getTime() - startDate.getTime()) / stepMs) + 1 : 0;
      return fixedInterval(startDate, s.seconds, k);
    }
    case 'cron': {
      const cron = cronOf(s);
      const start = after && after >= startDate ? fireAfter(cron, after) : fireAtOrAfter(cron, startDate);
      return cronInterval(cron, start);
    }
  }
}

/**
 * The latest complete interval (end <= now) that starts at or after startDate and before
 * endDate. Computed around `now` (or endDate) directly, so a DAG whose startDate is decades ago
 * costs the same as one that started yesterday.
 */
function latestDueInterval(s: Schedule, startDate: Date, endDate: Date | null, now: Date): DataInterval | null {
  switch (s.kind) {
    case 'none':
      return null;
    case 'interval': {
      const stepMs = s.seconds * 1000;
      // end = startDate + (k+1)*step <= now
      let k = Math.floor((now.getTime() - startDate.getTime()) / stepMs) - 1;
      // start = startDate + k*step < endDate
      if (endDate) k = Math.min(k, Math.ceil((endDate.getTime() - startDate.getTime()) / stepMs) - 1);
      return k >= 0 ? fixedInterval(startDate, s.seconds, k) : null;
    }
    case 'cron': {
      const cron = cronOf(s);
      const end = fireAtOrBefore(cron, now);
      let start = end ? fireBefore(cron, end) : null;
      if (!start || !end) return null;
      if (endDate && start >= endDate) {
        // Past the end date: the last interval that still starts before it (it ended long ago).
        start = fireBefore(cron, endDate);
        if (!start || start < startDate) return null;
        return cronInterval(cron, start);
      }
      return start >= startDate ? { logicalDate: new Date(start), start, end } : null;
    }
  }
}

export interface DueArgs {
  schedule: Schedule;
  startDate: Date;
  endDate: Date | null;
  /** Logical date of the newest run already created for this schedule, if any. */
  lastLogicalDate: Date | null;
  now: Date;
  catchup: boolean;
}

/**
 * Intervals to create runs for now, oldest first: complete (end <= now), after lastLogicalDate,
 * starting before endDate. With catchup every missed one (up to `limit`); without, only the
 * latest, as Airflow does: missed intervals in between are never run.
 */
export function dueIntervals(args: DueArgs & { limit: number }): DataInterval[] {
  const { schedule, startDate, endDate, lastLogicalDate, now, catchup, limit } = args;
  if (limit <= 0 || schedule.kind === 'none') return [];
  if (!catchup) {
    const latest = latestDueInterval(schedule, startDate, endDate, now);
    return latest && (!lastLogicalDate || latest.start > lastLogicalDate) ? [latest] : [];
  }
  const out: DataInterval[] = [];
  let after = lastLogicalDate;
  while (out.length < limit) {
    const next = intervalAfter(schedule, startDate, after);
    if (!next || next.end > now || (endDate && next.start >= endDate)) break;
    out.push(next);
    after = next.start;
  }
  return out;
}

/**
 * When the next run becomes due (the end of the next interval to create), for the DAG's
 * next_dagrun_at. In the past or equal to `now` when a run is already due; null when no run
 * will ever be due again (no schedule, or past endDate).
 */
export function nextDueAt(args: DueArgs): Date | null {
  if (args.schedule.kind === 'none') return null;
  if (!args.catchup) {
    const due = dueIntervals({ ...args, limit: 1 })[0];
    if (due) return due.end;
  }
  // With catchup this is the oldest missing interval. Without, nothing is due, so the first
  // interval after lastLogicalDate necessarily ends after `now`.
  const next = intervalAfter(args.schedule, args.startDate, args.lastLogicalDate);
  if (!next || (args.endDate && next.start >= args.endDate)) return null;
  return next.end;
}
