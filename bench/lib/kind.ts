// What every bench kind is to the entry point (bench/run.ts): a name, what it measures, the
// flags it takes, a time limit, and a run that returns the JSON to keep. The entry point
// parses the flags, enforces the limit and writes the result (bench/lib/results.ts).
import { parseArgs } from 'node:util';

export interface FlagSpec {
  type: 'string' | 'boolean';
  about: string;
  multiple?: boolean;
}

export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface KindContext {
  log(message: string): void;
  /** Registers what must be stopped even when the kind is interrupted or runs out of time. */
  cleanup(fn: () => Promise<void>): void;
}

export interface KindOutcome {
  /** False when a scenario failed: the entry point still writes the result, and exits 1. */
  ok: boolean;
  result: unknown;
}

export interface BenchKind {
  name: string;
  about: string;
  /** Rough duration at the default settings. */
  takes: string;
  /** Outside programs it needs beyond Node.js (the embedded PostgreSQL comes with npm). */
  needs?: string;
  /** Past this, the entry point stops what the kind registered and exits non-zero. */
  limitMin: number;
  flags: Record<string, FlagSpec>;
  run(flags: FlagValues, ctx: KindContext): Promise<KindOutcome>;
}

export function intFlag(flags: FlagValues, name: string, fallback: number, min = 1): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: an integer of at least ${min}`);
  return n;
}

export function listFlag<T extends string>(flags: FlagValues, name: string, allowed: readonly T[]): T[] {
  const v = flags[name];
  if (v === undefined) return [...allowed];
  const list = String(v).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of list) if (!(allowed as readonly string[]).includes(s)) throw new Error(`--${name}: one or more of ${allowed.join(', ')}`);
  return list as T[];
}

/** Parses argv for the flags of the given kinds (plus the entry point's own); unknown flags are an error. */
export function parseFlags(argv: string[], specs: Record<string, FlagSpec>): FlagValues {
  const options = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, { type: s.type, multiple: s.multiple ?? false }]));
  return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as FlagValues;
}
