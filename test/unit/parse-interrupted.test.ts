// A DAG file load ended by a signal from outside (a Ctrl-C, a shutdown) says nothing about
// the file: the loader's result is marked interrupted, and the DAG processor stores no
// import error for it (src/dag-processor/processor.ts). A file that ends its loader by
// itself is still reported as the file's error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseDagFile } from '../../src/dag-processor/parse-file.js';

const INTERRUPTED = fileURLToPath(new URL('../fixtures/interrupted/interrupted.ts', import.meta.url));
const EXITS = fileURLToPath(new URL('../fixtures/interrupted/exits.ts', import.meta.url));

test('a load ended by SIGINT is interrupted, not an error of the file', async () => {
  const r = await parseDagFile(INTERRUPTED, 'interrupted.ts', 60);
  assert.equal(r.ok, false);
  assert.equal((r as { interrupted?: boolean }).interrupted, true, JSON.stringify(r));
});

test('a file that exits its loader is the file\'s error', async () => {
  const r = await parseDagFile(EXITS, 'exits.ts', 60);
  assert.equal(r.ok, false);
  assert.equal((r as { interrupted?: boolean }).interrupted, undefined);
  assert.match((r as { error: string }).error, /exit code 4/);
});
