// No import cycle among the project's own modules (src/, bench/, tools/, test/), counting
// type-only and dynamic imports too: a cycle makes module start-up order matter and tangles
// what should be layers. Imports are read with TypeScript's own pre-processor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIRS = ['src', 'bench', 'tools', 'test'];
const SKIP = new Set(['node_modules', 'dist']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : sources(path);
    return /\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The project files a module imports: relative specifiers, `.js` written for `.ts`. */
function localImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles.map((i) => i.fileName).filter((s) => s.startsWith('.')).flatMap((s) => {
    const target = resolve(dirname(file), s);
    const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts'), `${target}.ts`];
    const found = candidates.find((c) => /\.(ts|tsx|mts)$/.test(c) && existsSync(c));
    return found ? [found] : [];
  });
}

/** One cycle of the graph as a path that starts and ends at the same module, or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return null;
}

test('findCycle finds a cycle and only a cycle', () => {
  assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), null);
});

test('no import cycle among the modules of src/, bench/, tools/ and test/', () => {
  const files = DIRS.flatMap((d) => sources(join(ROOT, d)));
  assert.ok(files.length > 100, `found only ${files.length} modules`);
  const graph = new Map(files.map((f) => [f, localImports(f)]));
  const cycle = findCycle(graph);
  assert.equal(cycle, null, `import cycle: ${cycle?.map((f) => relative(ROOT, f)).join(' → ')}`);
});
