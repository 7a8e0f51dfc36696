// `npm run bench -- [--list] [--only=<kind>,…] [flags]`: the one entry point of Keel's
// benchmarks. The kinds are registered in bench/registry.ts; this runs the selected ones in
// that order, each within its time limit, writes each result (bench/lib/results.ts) and
// exits 0 when every kind ran, 1 when one failed. See bench/README.md.
import { parseArgs } from 'node:util';
import { parseFlags, type FlagSpec, type FlagValues } from './lib/kind.js';
import { writeResult } from './lib/results.js';
import { KINDS, type RegisteredKind } from './registry.js';

const OWN: Record<string, FlagSpec> = {
  only: { type: 'string', about: `kinds to run, comma-separated (default: ${KINDS.filter((k) => k.default).map((k) => k.name).join(', ')})` },
  list: { type: 'boolean', about: 'list the kinds and exit' },
  help: { type: 'boolean', about: 'this text, with every kind\'s flags' },
};

const log = (m: string) => console.error(`${new Date().toISOString().slice(11, 23)} ${m}`);

function flagLines(flags: Record<string, FlagSpec>): string[] {
  return Object.entries(flags).map(([name, s]) => `    --${name}${s.type === 'string' ? '=…' : ''}`.padEnd(26) + s.about);
}

function listing(): string {
  return KINDS.map((k) => `${k.name.padEnd(14)} ${k.takes.padEnd(11)} ${k.about}${k.needs ? `\n${' '.repeat(27)}needs: ${k.needs}` : ''}`).join('\n');
}

function help(): string {
  // A flag several kinds share (the same spec) is described once, at its first kind.
  const firstKind = new Map<FlagSpec, string>();
  const sections = KINDS.flatMap((k) => {
    const own = Object.entries(k.flags).filter(([, s]) => !firstKind.has(s));
    const shared = Object.entries(k.flags).filter(([, s]) => firstKind.has(s));
    for (const [, s] of own) firstKind.set(s, k.name);
    return [`${k.name}${k.default ? ' (default)' : ''}: ${k.about}`, ...flagLines(Object.fromEntries(own)),
      ...(shared.length ? [`    ${shared.map(([n]) => `--${n}`).join(', ')}: as for ${firstKind.get(shared[0]![1])}`] : [])];
  });
  return ['npm run bench -- [--list] [--only=<kind>,…] [flags of those kinds]', '', ...flagLines(OWN), '', ...sections,
    '', 'A kind given none of its flags writes bench/results/<kind>-latest.json; with flags, bench/results/local/<kind>-latest.json (not committed).'].join('\n');
}

function select(only: string | undefined): RegisteredKind[] {
  if (only === undefined) return KINDS.filter((k) => k.default);
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!KINDS.some((k) => k.name === n)) throw new Error(`--only: unknown kind ${n}; kinds are ${KINDS.map((k) => k.name).join(', ')}`);
  return KINDS.filter((k) => names.includes(k.name));
}

/** The flags of the selected kinds; a name two kinds share must mean the same type. */
function flagSpecs(kinds: RegisteredKind[]): Record<string, FlagSpec> {
  const all: Record<string, FlagSpec> = { ...OWN };
  for (const k of kinds) {
    for (const [name, spec] of Object.entries(k.flags)) {
      const seen = all[name];
      if (seen && (seen.type !== spec.type || Boolean(seen.multiple) !== Boolean(spec.multiple))) throw new Error(`bench registry: flag --${name} has two types`);
      all[name] = spec;
    }
  }
  return all;
}

let cleanups: (() => Promise<void>)[] = [];
async function cleanupAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => log(`cleanup failed: ${(err as Error).message}`));
}
const bounded = () => Promise.race([cleanupAll(), new Promise((r) => setTimeout(r, 20_000))]);

async function runKind(kind: RegisteredKind, values: FlagValues): Promise<boolean> {
  const flags = Object.fromEntries(Object.entries(values).filter(([k]) => k in kind.flags));
  const reference = Object.keys(flags).length === 0;
  cleanups = [];
  const watchdog = setTimeout(() => {
    log(`[${kind.name}] still running after ${kind.limitMin} min; stopping what it started and giving up`);
    void bounded().then(() => process.exit(3));
  }, kind.limitMin * 60_000);
  watchdog.unref();
  log(`[${kind.name}] ${kind.about}`);
  try {
    const outcome = await kind.run(flags, { log, cleanup: (fn) => cleanups.push(fn) });
    console.log(`JSON: ${writeResult(kind.name, reference, outcome.result)}`);
    return outcome.ok;
  } catch (err) {
    log(`[${kind.name}] FAILED: ${(err as Error).stack ?? String(err)}`);
    return false;
  } finally {
    clearTimeout(watchdog);
    await cleanupAll();
  }
}

async function main(argv: string[]): Promise<number> {
  const first = parseArgs({ args: argv, options: { only: { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean' } }, strict: false }).values;
  if (first.list) {
    console.log(listing());
    return 0;
  }
  if (first.help) {
    console.log(help());
    return 0;
  }
  const kinds = select(first.only as string | undefined);
  const values = parseFlags(argv, flagSpecs(kinds));
  let ok = true;
  for (const kind of kinds) ok = (await runKind(kind, values)) && ok;
  return ok ? 0 : 1;
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`bench: ${sig}; stopping what the running kind started`);
    void bounded().then(() => process.exit(130));
  });
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  console.error(`bench: ${(err as Error).message}; try --help`);
  code = 2;
}
process.exit(code);
