// Checks of the CLI's arguments before they reach the database, with the limits the API
// applies (src/api/schemas.ts, src/core/input-limits.ts), so that a bad argument exits with
// code 2 and a message naming it instead of a PostgreSQL error.
import { readFileSync } from 'node:fs';
import { jsonProblem, MAX_INT4 } from '../core/input-limits.js';
import { UsageError } from '../errors.js';
import { MAX_ID_LENGTH } from '../core/dag-graph.js';
import { parseDuration } from '../core/schedule.js';

/** Any JSON value, within the text and nesting limits. */
export function parseJson(text: string, what: string, example: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what}: not valid JSON (${(err as Error).message}); example: ${what} '${example}'`);
  }
  const problem = jsonProblem(v, what);
  if (problem) throw new UsageError(`${problem.field} ${problem.message}`);
  return v;
}

export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  const v = parseJson(text, what, '{"rows": 5}');
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${what}: expected a JSON object, e.g. '{"rows": 5}'`);
  return v as Record<string, unknown>;
}

/** A numeric id of a run or token (a PostgreSQL bigint, as the API's `^[0-9]{1,18}$`). */
export function positiveId(text: string, what: string): string {
  if (!/^\d{1,18}$/.test(text)) throw new UsageError(`${what} must be a numeric id (see \`keel runs list\`), got "${text}"`);
  return text;
}

/** A whole number from 1 to `max`. */
export function positiveCount(text: string, what: string, max = MAX_INT4): number {
  const n = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max)) throw new UsageError(`${what} must be a positive integer, got "${text}" (at most ${max})`);
  return n;
}

/** A pool name, as the API's (letters, digits, `_`, `.`, `-`). */
export function poolName(text: string): string {
  if (text.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_.-]+$/.test(text)) throw new UsageError(`pool name must be 1 to ${MAX_ID_LENGTH} letters, digits, "_", "." or "-", got "${text}"`);
  return text;
}

/** A pool's slots: 0 to 1,000,000, as the API allows. */
export function poolSlots(text: string): number {
  const n = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 1_000_000)) throw new UsageError(`--slots must be a whole number from 0 to 1000000, got "${text}"`);
  return n;
}

/** An ISO-8601 date in years 0001–9999 (PostgreSQL has no year 0). */
export function logicalDate(text: string, what: string): Date {
  const d = new Date(text);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 1 || year > 9999) throw new UsageError(`${what} must be an ISO-8601 date in years 0001 to 9999, e.g. 2026-01-01T00:00:00Z; got "${text}"`);
  return d;
}

/**
 * A password from a file or standard input, never from the command line (where `ps` and
 * shell history show it). One trailing line break is not part of it.
 */
export function readPassword(o: { passwordFile?: string; passwordStdin?: boolean }): string {
  if ((o.passwordFile === undefined) === !o.passwordStdin) throw new UsageError('give the password with exactly one of --password-file <file> and --password-stdin');
  let text: string;
  try {
    text = readFileSync(o.passwordStdin ? 0 : o.passwordFile!, 'utf8');
  } catch (err) {
    throw new UsageError(`${o.passwordStdin ? '--password-stdin' : '--password-file'}: cannot read the password: ${(err as Error).message}`);
  }
  return text.replace(/\r?\n$/, '');
}

/** A length of time such as `90s`, `10m` or `2h` (a bare number is seconds), within bounds; in seconds. */
export function durationFlag(text: string, flag: string, minSec: number, maxSec: number): number {
  const form = `a number of seconds or a duration such as 90s, 10m, 2h, from ${shortDuration(minSec)} to ${shortDuration(maxSec)}`;
  let sec: number;
  try {
    sec = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : parseDuration(text);
  } catch {
    throw new UsageError(`${flag} must be ${form}; got "${text}"`);
  }
  if (!(sec >= minSec && sec <= maxSec)) throw new UsageError(`${flag} must be ${form}; got "${text}"`);
  return sec;
}

function shortDuration(sec: number): string {
  return sec % 3600 === 0 ? `${sec / 3600}h` : sec % 60 === 0 ? `${sec / 60}m` : `${sec}s`;
}
