// Password hashes of API users (src/auth/passwords.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';

test('password hashes: salted scrypt, verified in constant time', async () => {
  const h1 = await hashPassword('correct horse');
  assert.match(h1, /^scrypt\$32768\$8\$1\$/);
  assert.notEqual(h1, await hashPassword('correct horse'));
  assert.equal(await verifyPassword('correct horse', h1), true);
  assert.equal(await verifyPassword('wrong horse', h1), false);
  assert.equal(await verifyPassword('x', 'garbage'), false);
});
