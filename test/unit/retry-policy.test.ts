import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRetry, validateRetryPolicy } from '../../src/core/retry-policy.js';
import type { RetryPolicy } from '../../src/core/types.js';

const policy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({
  retries: 3,
  retryDelaySec: 10,
  exponentialBackoff: false,
  maxRetryDelaySec: 3600,
  ...p,
});

test('retries while the failed try number is <= retries', () => {
  const p = policy({ retries: 2 });
  assert.deepEqual(decideRetry(p, 1), { retry: true, delaySec: 10 });
  assert.deepEqual(decideRetry(p, 2), { retry: true, delaySec: 10 });
  assert.deepEqual(decideRetry(p, 3), { retry: false });
  assert.deepEqual(decideRetry(policy({ retries: 0 }), 1), { retry: false });
});

test('exponential backoff doubles per try and is capped', () => {
  const p = policy({ retries: 10, retryDelaySec: 5, exponentialBackoff: true, maxRetryDelaySec: 60 });
  const delays = [1, 2, 3, 4, 5, 6].map((n) => {
    const d = decideRetry(p, n);
    return d.retry ? d.delaySec : -1;
  });
  assert.deepEqual(delays, [5, 10, 20, 40, 60, 60]);
});

test('backoff stays finite for huge try numbers and zero delays', () => {
  assert.deepEqual(decideRetry(policy({ retries: 5000, exponentialBackoff: true, maxRetryDelaySec: 600 }), 4000), {
    retry: true,
    delaySec: 600,
  });
  assert.deepEqual(decideRetry(policy({ retries: 5000, retryDelaySec: 0, exponentialBackoff: true }), 4000), {
    retry: true,
    delaySec: 0,
  });
});

test('decisions are deterministic', () => {
  const p = policy({ exponentialBackoff: true });
  assert.deepEqual(decideRetry(p, 2), decideRetry(p, 2));
});

test('validateRetryPolicy names the broken field', () => {
  assert.deepEqual(validateRetryPolicy(policy()), []);
  const cases: [Partial<RetryPolicy>, RegExp][] = [
    [{ retries: -1 }, /^retries must be a non-negative integer.*got -1/],
    [{ retries: 1.5 }, /^retries /],
    [{ retryDelaySec: -2 }, /^retryDelaySec /],
    [{ retryDelaySec: Number.NaN }, /^retryDelaySec .*got NaN/],
    [{ maxRetryDelaySec: Number.POSITIVE_INFINITY }, /^maxRetryDelaySec /],
    [{ retryDelaySec: 100, maxRetryDelaySec: 50 }, /^maxRetryDelaySec \(50\) must be >= retryDelaySec \(100\)/],
    [{ exponentialBackoff: 'yes' as unknown as boolean }, /^exponentialBackoff /],
  ];
  for (const [patch, re] of cases) {
    const errors = validateRetryPolicy(policy(patch));
    assert.equal(errors.length, 1, JSON.stringify(patch));
    assert.match(errors[0] ?? '', re);
  }
});
