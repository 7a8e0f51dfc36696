// The secret box that encrypts stored connection secrets (src/secrets/secret-box.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from '../../src/secrets/secret-box.js';

test('secret box: round trip, random IV, wrong key or tampering fails', () => {
  const box = new SecretBox('a key of sixteen+ chars');
  const one = box.encrypt('p@ss wörd');
  assert.equal(box.decrypt(one), 'p@ss wörd');
  assert.notDeepEqual(one, box.encrypt('p@ss wörd'));
  assert.throws(() => new SecretBox('another key of 16+ chars').decrypt(one));
  const tampered = Buffer.from(one);
  tampered[tampered.length - 1]! ^= 1;
  assert.throws(() => box.decrypt(tampered));
});
