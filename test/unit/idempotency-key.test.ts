import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDEMPOTENCY_KEY_PATTERN, idempotencyKeyProblem, mismatchOf, triggerKeyFor } from '../../src/runs/idempotency-key.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('triggerKeyFor maps exactly as it always has (RFC 9562 version 5 of "<dagId>\\n<key>")', () => {
  // Pinned from the first (hand-written) implementation; all but the last also computed with
  // Python's uuid.uuid5. A change would make every key already used name another run.
  const pins: [string, string, string][] = [
    ['api_dag', 'order-1', 'be16ce28-fa4d-548f-ab80-8d3a59610799'],
    ['a.b-c_d', ' ~!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}', 'c9bebbb5-b809-5e98-91b9-95287dabb43b'],
    ['etl', 'x'.repeat(255), '32fa5fb8-8620-5845-b1d1-27f0636368a7'],
    ['étl-日本', 'k', '9bb9cf7d-3958-5ef8-a5a3-7aa97b1f512d'], // the name as UTF-8
    ['x\uD800y', 'k', '9730b45d-8722-5ecb-ad23-56d2d4f26ccb'], // a lone surrogate: U+FFFD's UTF-8, no throw
  ];
  for (const [dagId, key, uuid] of pins) assert.equal(triggerKeyFor(dagId, key), uuid, JSON.stringify([dagId, key]));
});

test('triggerKeyFor: the same (DAG, key) always maps to the same uuid; another DAG or key to another', () => {
  const k = triggerKeyFor('etl', 'order-42');
  assert.match(k, UUID);
  assert.equal(triggerKeyFor('etl', 'order-42'), k);
  // Pinned (computed with Python's uuid.uuid5): a change would make every key already used name another run.
  assert.equal(k, '2a1ccb10-b3aa-5b0c-9159-a834f3d69d4d');
  const others = [triggerKeyFor('etl2', 'order-42'), triggerKeyFor('etl', 'order-43'), triggerKeyFor('etl', 'order-42 '), triggerKeyFor('et', 'l\norder-42')];
  assert.equal(new Set([k, ...others]).size, 1 + others.length);
});

test('idempotencyKeyProblem: 1-255 printable ASCII characters', () => {
  for (const ok of ['a', ' ', '~', 'x'.repeat(255), '0b6f3f9e-2c1a-4f39-9d7e-5d6c1e0a9b11', 'order #42: retry "twice"']) {
    assert.equal(idempotencyKeyProblem(ok), null, JSON.stringify(ok));
    assert.match(ok, new RegExp(IDEMPOTENCY_KEY_PATTERN, 'u'));
  }
  const cases: [string, RegExp][] = [
    ['', /got an empty value/],
    ['x'.repeat(256), /got 256 characters/],
    ['a\tb', /got "\\t" at position 2/],
    ['clé', /got "é" at position 3/],
    ['line\n', /position 5/],
    ['😀', /position 1/],
  ];
  for (const [bad, why] of cases) {
    const p = idempotencyKeyProblem(bad);
    assert.ok(p, JSON.stringify(bad));
    assert.match(p, /^must be 1 to 255 printable ASCII characters/);
    assert.match(p, why);
    if (bad.length <= 255) assert.doesNotMatch(bad, new RegExp(IDEMPOTENCY_KEY_PATTERN, 'u')); // the schema's maxLength checks the length
  }
});

test('mismatchOf compares resolved params always, logicalDate and runId when asked', () => {
  const run = { id: '7', dagId: 'etl', runId: 'manual__2026-01-01T00:00:00.000Z', logicalDate: new Date('2026-01-01T00:00:00Z'), params: { n: 1, opts: { a: 1, b: [1, 2] } } };
  assert.deepEqual(mismatchOf(run, 'etl', { opts: { b: [1, 2], a: 1 }, n: 1 }, {}), []);
  assert.deepEqual(mismatchOf(run, 'etl', run.params, { logicalDate: new Date('2026-01-01T00:00:00.000Z'), runId: run.runId }), []);
  assert.match(mismatchOf(run, 'etl', { n: 2, opts: { a: 1, b: [1, 2] } }, {}).join(), /params are \{"n":1,.*this request's \{"n":2/);
  assert.match(mismatchOf(run, 'etl', run.params, { logicalDate: new Date('2026-01-02T00:00:00Z') }).join(), /logicalDate is 2026-01-01T00:00:00.000Z, this request's 2026-01-02/);
  assert.match(mismatchOf(run, 'etl', run.params, { runId: 'other' }).join(), /runId is "manual__.*", this request's "other"/);
  assert.match(mismatchOf(run, 'other', run.params, {}).join(), /belongs to DAG "etl"/);
  assert.equal(mismatchOf(run, 'etl', { n: 2, opts: {} }, { runId: 'x', logicalDate: new Date(0) }).length, 3);
});
