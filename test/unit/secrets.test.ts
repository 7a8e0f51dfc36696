// Secret masking and the environment user code gets: pure, no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOptions } from '../../src/config/load.js';
import { SecretMasker } from '../../src/secrets/masker.js';
import { readOrCreateSecretFile, readSecretFile } from '../../src/secrets/secret-file.js';
import { isSensitiveKey, keepMaskedFields, maskSensitiveFields, sensitiveLikePatterns, sensitiveStrings } from '../../src/secrets/sensitive.js';
import { userCodeEnv } from '../../src/user-code-env.js';

test('sensitive keys are found by the words of Airflow\'s secrets masker, in any case and position', () => {
  for (const k of ['password', 'DB_PASSWORD', 'apiKey', 'partner_api_key', 'Authorization', 'github_token', 'client_secret', 'gcp_keyfile_dict']) assert.ok(isSensitiveKey(k), k);
  for (const k of ['region', 'host', 'api', 'key', 'port']) assert.ok(!isSensitiveKey(k), k);
  assert.ok(sensitiveLikePatterns().includes('%api\\_key%'), 'an underscore is matched literally in SQL');
});

test('sensitive fields are masked at any depth, and a mask sent back keeps the stored value', () => {
  const stored = { region: 'eu', token: 't-1', nested: { private_key: 'pk', port: 1, list: [{ password: 'p0' }] } };
  const masked = maskSensitiveFields(stored);
  assert.deepEqual(masked, { region: 'eu', token: '***', nested: { private_key: '***', port: 1, list: [{ password: '***' }] } });
  assert.deepEqual(sensitiveStrings(stored).sort(), ['p0', 'pk', 't-1']);
  assert.deepEqual(keepMaskedFields({ ...(masked as object), region: 'us' }, stored), { ...stored, region: 'us' });
  assert.deepEqual(keepMaskedFields({ token: '***', password: '***' }, {}), { token: '***', password: '***' }, 'nothing stored: the mask is taken as sent');
  assert.deepEqual(keepMaskedFields({ token: 'new' }, stored), { token: 'new' });
});

test('the masker replaces secrets, their URL-encoded form and the lines of multi-line ones; short ones stay', () => {
  const m = new SecretMasker(['s3cr3t/pw', '-----BEGIN KEY-----\nAAAAbbbbCCCC\n-----END KEY-----', 'abc']);
  assert.equal(m.mask('login with s3cr3t/pw or postgres://u:s3cr3t%2Fpw@h'), 'login with *** or postgres://u:***@h');
  assert.equal(m.mask('AAAAbbbbCCCC'), '***');
  assert.equal(m.mask('abc is too short to mask'), 'abc is too short to mask');
  assert.equal(new SecretMasker([]).mask('a.b*c'), 'a.b*c');
  assert.equal(new SecretMasker(['a.b*c+d']).mask('xa.b*c+dx aXb'), 'x***x aXb', 'regex characters are literal');
});

test('user code gets the allow-list, taskEnvAllow names and prefixes, and Keel\'s own variables for the child, nothing else', () => {
  const parent = { PATH: '/bin', HOME: '/h', LC_ALL: 'C', KEEL_DATABASE_URL: 'postgres://x', KEEL_SECRET_KEY: 'k', AWS_REGION: 'eu', AWS_SECRET: 's', OTHER: 'o', NODE_OPTIONS: '--inspect' };
  assert.deepEqual(userCodeEnv(parent, []), { PATH: '/bin', HOME: '/h', LC_ALL: 'C' });
  assert.deepEqual(userCodeEnv(parent, ['AWS_*', 'OTHER'], { KEEL_RUNNER: '1' }), { PATH: '/bin', HOME: '/h', LC_ALL: 'C', AWS_REGION: 'eu', AWS_SECRET: 's', OTHER: 'o', KEEL_RUNNER: '1' });
  const allow = (v: string) => loadOptions({ env: { KEEL_TASK_ENV_ALLOW: v }, noConfigFile: true }).taskEnvAllow;
  assert.deepEqual(allow('AWS_*, OTHER'), ['AWS_*', 'OTHER']);
  assert.throws(() => allow('KEEL_DATABASE_URL'), /taskEnvAllow.*not starting with KEEL_/);
  assert.throws(() => allow('KEEL_*'), /not starting with KEEL_/);
});

test('a secret file is made owner-only once, and a loose one is made owner-only when read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-secret-file-'));
  try {
    const file = join(dir, 'secret');
    assert.equal(readSecretFile(file), null);
    const made = readOrCreateSecretFile(file);
    assert.ok(made.length >= 40);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readOrCreateSecretFile(file), made, 'made once');
    const loose = join(dir, 'loose');
    writeFileSync(loose, 'old-secret', { mode: 0o644 });
    assert.equal(readSecretFile(loose), 'old-secret');
    assert.equal(statSync(loose).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
