import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonProblem, textProblem } from '../../src/core/input-limits.js';

test('text: no NUL and no lone surrogate; surrogate pairs are characters', () => {
  assert.equal(textProblem('plain ünïcode 😀'), null);
  assert.match(textProblem('a\u0000b')!, /NUL/);
  assert.match(textProblem('\ud800')!, /lone UTF-16 surrogate/);
  assert.match(textProblem('x\udc00y')!, /lone UTF-16 surrogate/);
});

test('JSON: the first bad string, key or level, named by its path', () => {
  assert.equal(jsonProblem({ a: [1, 'ok', { b: null }] }, 'body'), null);
  assert.deepEqual(jsonProblem({ a: [1, 'x\u0000'] }, 'body'), { field: 'body.a.1', message: 'must not contain a NUL character (\\u0000)' });
  assert.deepEqual(jsonProblem({ a: { 'k\ud800': 1 } }, 'body'), { field: 'body.a', message: 'has a key that must not contain a lone UTF-16 surrogate (invalid Unicode)' });
  assert.equal(jsonProblem('\u0000', '--payload')?.field, '--payload');
  let deep: unknown = 1;
  for (let i = 0; i < 5; i++) deep = [deep];
  assert.equal(jsonProblem(deep, 'body', 5), null, 'five levels');
  assert.deepEqual(jsonProblem([deep], 'body', 5), { field: 'body.0.0.0.0.0', message: 'is nested deeper than 5 levels' });
});
