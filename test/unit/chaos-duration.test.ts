import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationFlag } from '../../src/cli/inputs.js';
import { UsageError } from '../../src/errors.js';

test('--duration takes seconds, s, m and h', () => {
  assert.equal(durationFlag('90', '--duration', 5, 86400), 90);
  assert.equal(durationFlag('90s', '--duration', 5, 86400), 90);
  assert.equal(durationFlag('10m', '--duration', 5, 86400), 600);
  assert.equal(durationFlag('2h', '--duration', 5, 86400), 7200);
  assert.equal(durationFlag('1h30m', '--duration', 5, 86400), 5400);
  assert.equal(durationFlag('7.5', '--settle', 5, 86400), 7.5);
});

test('a bad or out-of-bounds duration names the flag and the accepted form', () => {
  for (const bad of ['abc', '10 minutes', '-5s', '', '3s', '25h']) {
    assert.throws(() => durationFlag(bad, '--duration', 5, 86400), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /^--duration must be a number of seconds or a duration such as 90s, 10m, 2h, from 5s to 24h; got "/);
      return true;
    }, bad);
  }
});
