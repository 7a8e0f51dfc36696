// When a failed try gets another go, and after how long. Deterministic (no jitter) so the
// scheduler, the worker and tests all agree on next_retry_at for the same failure.
import type { RetryPolicy } from './types.js';

export type RetryDecision = { retry: true; delaySec: number } | { retry: false };

/** `tryNumber` is the 1-based number of the try that just failed. */
export function decideRetry(policy: RetryPolicy, tryNumber: number): RetryDecision {
  if (!(tryNumber <= policy.retries)) return { retry: false };
  const base = policy.retryDelaySec;
  // 0 * 2^n would be NaN once 2^n overflows to Infinity; a zero delay stays zero.
  const raw = policy.exponentialBackoff && base > 0 ? base * 2 ** Math.max(0, tryNumber - 1) : base;
  // The cap also bounds a plain delay, so a policy that slipped past validation stays sane.
  return { retry: true, delaySec: Math.min(raw, policy.maxRetryDelaySec) };
}

// JSON.stringify would print NaN and Infinity as null.
function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
}

function isNonNegativeInteger(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function isNonNegativeNumber(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Human-readable problems, each naming the field; empty when the policy is fine. */
export function validateRetryPolicy(p: RetryPolicy): string[] {
  const errors: string[] = [];
  if (!isNonNegativeInteger(p.retries)) {
    errors.push(`retries must be a non-negative integer (0 = a single try), got ${show(p.retries)}`);
  }
  if (!isNonNegativeNumber(p.retryDelaySec)) {
    errors.push(`retryDelaySec must be a non-negative number of seconds, got ${show(p.retryDelaySec)}`);
  }
  if (typeof p.exponentialBackoff !== 'boolean') {
    errors.push(`exponentialBackoff must be true or false, got ${show(p.exponentialBackoff)}`);
  }
  if (!isNonNegativeNumber(p.maxRetryDelaySec)) {
    errors.push(`maxRetryDelaySec must be a non-negative number of seconds, got ${show(p.maxRetryDelaySec)}`);
  } else if (isNonNegativeNumber(p.retryDelaySec) && p.maxRetryDelaySec < p.retryDelaySec) {
    errors.push(
      `maxRetryDelaySec (${p.maxRetryDelaySec}) must be >= retryDelaySec (${p.retryDelaySec}); raise the cap or lower the delay`,
    );
  }
  return errors;
}

/** The policy of a task whose definition is gone from its stored DAG version: no retry. */
export const NO_RETRIES: RetryPolicy = { retries: 0, retryDelaySec: 0, exponentialBackoff: false, maxRetryDelaySec: 0 };
