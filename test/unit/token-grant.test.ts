import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grantToken } from '../../src/auth/token-grant.js';

const limits = { defaultSec: 3600, maxSec: 86400 };
const now = new Date('2030-01-01T00:00:00Z');
const inSec = (s: number) => new Date(now.getTime() + s * 1000);

test('a token gets the default lifetime, never past its maker', () => {
  assert.deepEqual(grantToken({}, { role: 'op', expiresAt: null }, limits, now), { ok: true, lifetimeSec: 3600, role: 'op' });
  assert.deepEqual(grantToken({}, { role: 'op', expiresAt: inSec(600) }, limits, now), { ok: true, lifetimeSec: 600, role: 'op' });
  assert.deepEqual(grantToken({ lifetimeSec: 500 }, { role: 'op', expiresAt: inSec(600) }, limits, now), { ok: true, lifetimeSec: 500, role: 'op' });
});

test('a token asked to outlive its maker or the maximum, or to outrank its maker, is refused', () => {
  const longer = grantToken({ lifetimeSec: 700 }, { role: 'op', expiresAt: inSec(600) }, limits, now);
  assert.ok(!longer.ok && longer.status === 400 && longer.field === 'body.lifetimeSec' && /at most 600 s/.test(longer.message));
  const max = grantToken({ lifetimeSec: 86401 }, { role: 'admin', expiresAt: null }, limits, now);
  assert.ok(!max.ok && /at most 86400 s/.test(max.message));
  const soon = grantToken({}, { role: 'op', expiresAt: inSec(30) }, limits, now);
  assert.ok(!soon.ok && /expires in 30 s/.test(soon.message));
  const up = grantToken({ role: 'admin' }, { role: 'op', expiresAt: null }, limits, now);
  assert.ok(!up.ok && up.status === 403 && up.field === 'body.role');
  assert.deepEqual(grantToken({ role: 'viewer' }, { role: 'op', expiresAt: null }, limits, now), { ok: true, lifetimeSec: 3600, role: 'viewer' });
});
