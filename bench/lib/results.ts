// Where a kind's result goes. A run at the kind's default settings (no flags of its own)
// writes the reference numbers, bench/results/<kind>-latest.json, which are committed; any
// other run writes bench/results/local/<kind>-latest.json, which git ignores, so a try-out
// never replaces the reference. Nothing dated is written: git history keeps earlier results.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './cluster.js';

export function resultPath(kind: string, reference: boolean): string {
  return join('bench', 'results', ...(reference ? [] : ['local']), `${kind}-latest.json`);
}

/** Writes the result and returns its path relative to the repository. */
export function writeResult(kind: string, reference: boolean, result: unknown): string {
  const path = resultPath(kind, reference);
  mkdirSync(dirname(join(REPO_ROOT, path)), { recursive: true });
  writeFileSync(join(REPO_ROOT, path), `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
