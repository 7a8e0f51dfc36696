// The folder tree is the architecture: a role (a process's job) never imports another role;
// what several roles share lives in a layer below them (runs/, fencing/, deferral/, db/, …),
// and only the composition root (runtime/, which the CLI starts) puts roles together.
// src/core/ is pure decision logic: it imports nothing outside itself, so it needs no I/O to test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** Packages src/core/ may use: computation only (schedules, JSON-Schema validation). */
const PURE_PACKAGES = new Set(['croner', 'ajv', 'ajv-formats']);
const ROLES = new Set(['api', 'cli', 'dag-processor', 'scheduler', 'worker', 'triggerer']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'ui' && dir === SRC ? [] : sources(path);
    return /\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The top folder of src/ a file lives in ('' for a file at src/'s top). */
const areaOf = (file: string) => {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : '';
};

function imports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles.map((i) => i.fileName).filter((s) => s.startsWith('.')).map((s) => {
    const target = resolve(dirname(file), s);
    return existsSync(target.replace(/\.js$/, '.ts')) ? target.replace(/\.js$/, '.ts') : target;
  });
}

const edges = sources(SRC).flatMap((file) => imports(file).filter((t) => t.startsWith(SRC)).map((target) => ({ file, target, from: areaOf(file), to: areaOf(target) })));
const show = (e: { file: string; target: string }) => `${relative(SRC, e.file)} → ${relative(SRC, e.target)}`;

test('no role imports another role (shared logic lives in a layer below the roles)', () => {
  const crossing = edges.filter((e) => ROLES.has(e.from) && ROLES.has(e.to) && e.from !== e.to && !(e.from === 'cli' && e.to === 'runtime'));
  assert.deepEqual(crossing.map(show), []);
});

test('only the composition root (runtime/) and the CLI that starts it import role modules from outside the roles', () => {
  const intoRoles = edges.filter((e) => ROLES.has(e.to) && !ROLES.has(e.from) && e.from !== 'runtime');
  assert.deepEqual(intoRoles.map(show), []);
});

test('src/core/ is pure: it imports only src/core/', () => {
  const outward = edges.filter((e) => e.from === 'core' && e.to !== 'core');
  assert.deepEqual(outward.map(show), []);
  for (const file of sources(join(SRC, 'core'))) {
    const bare = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => i.fileName).filter((s) => !s.startsWith('.'));
    assert.deepEqual(bare.filter((s) => !PURE_PACKAGES.has(s)), [], `${relative(SRC, file)} imports a package not known to be free of I/O`);
  }
});

test('the check sees the imports it is about (it would fail on a role importing a role)', () => {
  assert.ok(edges.some((e) => e.from === 'runtime' && e.to === 'scheduler'), 'runtime/ starts the scheduler');
  assert.ok(edges.some((e) => e.from === 'worker' && e.to === 'fencing'));
});
