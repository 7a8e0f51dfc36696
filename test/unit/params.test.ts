import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveParams, validateParamSpecs } from '../../src/core/params.js';
import type { ParamSpec } from '../../src/core/types.js';

const specs: Record<string, ParamSpec> = {
  rows: { type: 'integer', default: 10, minimum: 1, maximum: 1000 },
  table: { type: 'string', pattern: '^[a-z_]+$', minLength: 2 },
  mode: { type: 'string', enum: ['full', 'incremental'], default: 'full' },
  dryRun: { type: 'boolean', default: false },
  opts: { type: 'object', default: { a: 1 } },
};

test('validateParamSpecs accepts good specs', () => {
  assert.deepEqual(validateParamSpecs(specs), []);
  assert.deepEqual(validateParamSpecs({}), []);
});

test('validateParamSpecs reports each problem naming the param', () => {
  const cases: [Record<string, ParamSpec>, RegExp][] = [
    [{ '1st': { type: 'string' } }, /^param "1st": name must be an identifier/],
    [{ 'my-param': { type: 'string' } }, /^param "my-param": name must be an identifier/],
    [{ x: { type: 'date' as ParamSpec['type'] } }, /^param "x": unknown type "date"; use one of string, number/],
    [{ x: { type: 'integer', default: 'ten' } }, /^param "x": default "ten" must be integer$/],
    [{ x: { type: 'integer', default: 0, minimum: 1 } }, /^param "x": default 0 must be >= 1$/],
    [{ x: { type: 'string', enum: ['a', 'b'], default: 'c' } }, /^param "x": default "c" must be one of "a", "b"$/],
    [{ x: { type: 'string', enum: ['a', 2] } }, /^param "x": enum value 2 is not of type string$/],
    [{ x: { type: 'string', enum: [] } }, /enum must be a non-empty array/],
    [{ x: { type: 'string', pattern: '([' } }, /^param "x": invalid pattern "\(\["/],
    [{ x: { type: 'number', minimum: 5, maximum: 1 } }, /minimum \(5\) is greater than maximum \(1\)/],
    [{ x: { type: 'string', minimum: 1 } }, /minimum only applies to number and integer params/],
    [{ x: { type: 'number', minLength: 1 } }, /minLength only applies to string params/],
    [{ x: { type: 'string', maxLength: -1 } }, /maxLength must be a non-negative integer/],
  ];
  for (const [s, re] of cases) {
    const errors = validateParamSpecs(s);
    assert.equal(errors.length, 1, `${JSON.stringify(s)}: ${errors.join(' | ')}`);
    assert.match(errors[0] ?? '', re);
  }
});

test('resolveParams applies defaults and accepts valid values', () => {
  assert.deepEqual(resolveParams(specs, { table: 'users' }), {
    ok: true,
    params: { rows: 10, table: 'users', mode: 'full', dryRun: false, opts: { a: 1 } },
  });
  assert.deepEqual(resolveParams(specs, { table: 'users', rows: 5, mode: 'incremental', dryRun: true, opts: {} }), {
    ok: true,
    params: { rows: 5, table: 'users', mode: 'incremental', dryRun: true, opts: {} },
  });
  assert.deepEqual(resolveParams({}, undefined), { ok: true, params: {} });
});

test('resolveParams copies object defaults so runs cannot change them', () => {
  const r = resolveParams(specs, { table: 'users' });
  assert.ok(r.ok);
  (r.params.opts as { a: number }).a = 99;
  assert.deepEqual(specs.opts?.default, { a: 1 });
});

test('resolveParams reports every error naming the param', () => {
  const r = resolveParams(specs, { rows: 0, mode: 'partial', extra: 1, dryRun: 'yes' });
  assert.deepEqual(r, {
    ok: false,
    errors: [
      'unknown param "extra"; this DAG accepts: rows, table, mode, dryRun, opts',
      'param "rows": must be >= 1',
      'param "table" is required (it has no default)',
      'param "mode": must be one of "full", "incremental"',
      'param "dryRun": must be boolean',
    ],
  });
  assert.deepEqual(resolveParams(specs, { table: 'Users!', rows: 2.5 }), {
    ok: false,
    errors: ['param "rows": must be integer', 'param "table": must match pattern "^[a-z_]+$"'],
  });
  assert.deepEqual(resolveParams(specs, { table: 'a', rows: 5000 }), {
    ok: false,
    errors: ['param "rows": must be <= 1000', 'param "table": must NOT have fewer than 2 characters'],
  });
  assert.deepEqual(resolveParams({}, { x: 1 }), { ok: false, errors: ['unknown param "x"; this DAG accepts no params'] });
  assert.equal(resolveParams(specs, [] as unknown as Record<string, unknown>).ok, false);
});

test('resolveParams reuses compiled validators and stays fast', () => {
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) resolveParams(specs, { table: 'users', rows: (i % 1000) + 1 });
  assert.ok(performance.now() - t0 < 500);
});
