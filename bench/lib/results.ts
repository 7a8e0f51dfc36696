// Where a bench writes its numbers: bench/results/<prefix>-latest.json and a dated copy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cluster.js';

export function writeResults(prefix: string, startedAt: Date, result: unknown): void {
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(result, null, 2);
  writeFileSync(join(dir, `${prefix}-latest.json`), text);
  writeFileSync(join(dir, `${prefix}-${startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`), text);
}
