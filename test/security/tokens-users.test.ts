// Issue 11, finding 5: any token (a 60-second one, a viewer's) could make a token that never
// expired and survived revoking its parent, and `lifetimeSec: 1e12` was accepted. Now a
// token never outlives nor outranks the token or session that makes it, has a default and
// a maximum lifetime, and goes with the token that made it. Admins disable users, change
// their password and role, and end all their sessions and tokens, through the API and the
// CLI (which reads passwords from standard input or a file, never from its command line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToken, createUser } from '../../src/auth/users.js';
import { OPTION_SPECS } from '../../src/config/options.js';
import { ApiClient, useApiCluster } from '../support/api.js';
import { expectCode, runKeel } from '../support/cli.js';
import { startRoles, testOptions } from '../support/cluster.js';
import { startRedis } from '../support/redis-server.js';

const DAGS = fileURLToPath(new URL('../fixtures/security/', import.meta.url));
// Many logins from one address: the per-address limit (test/security/proxy-trust.test.ts) is not what this file tests.
const LOGINS = { apiLoginRateLimit: 1000 };
const api = useApiCluster(DAGS, ['sec_dag'], LOGINS, ['dag-processor', 'api']);

const withToken = (token: string) => Object.assign(new ApiClient(api.base), { token });
const secondsUntil = (iso: string | Date) => (new Date(iso).getTime() - Date.now()) / 1000;

test('a token can neither outlive the token or session that makes it nor live for ever', async () => {
  const parent = await createToken(api.t.db, 'ada', 'short', 120);
  const viaParent = withToken(parent.token);
  const longer = await viaParent.req('POST', '/api/v1/auth/tokens', { name: 'longer', lifetimeSec: 1_000_000 });
  assert.equal(longer.status, 400, JSON.stringify(longer.body));
  assert.equal(longer.body.field, 'body.lifetimeSec');
  const child = await viaParent.req('POST', '/api/v1/auth/tokens', { name: 'child' });
  assert.equal(child.status, 201);
  assert.ok(child.body.expiresAt, 'it expires');
  assert.ok(new Date(child.body.expiresAt) <= parent.expiresAt, 'no later than its parent');

  const huge = await api.admin.req('POST', '/api/v1/auth/tokens', { name: 'year 33715', lifetimeSec: 1e12 });
  assert.equal(huge.status, 400);
  assert.equal(huge.body.field, 'body.lifetimeSec');
  const fromSession = await api.admin.req('POST', '/api/v1/auth/tokens', { name: 'from the browser' });
  assert.equal(fromSession.status, 201);
  assert.ok(secondsUntil(fromSession.body.expiresAt) <= OPTION_SPECS.apiSessionMaxSec.default + 5, 'no later than the session that made it');

  const byOperator = await createToken(api.t.db, 'ada', 'cli', null);
  assert.ok(Math.abs(secondsUntil(byOperator.expiresAt) - OPTION_SPECS.apiTokenDefaultLifetimeSec.default) < 60, 'the default lifetime');
  await assert.rejects(createToken(api.t.db, 'ada', 'too long', OPTION_SPECS.apiTokenMaxLifetimeSec.default + 1), /at most 31536000 s/);
});

test('a token can never rank above the credential that makes it, nor above its user', async () => {
  await createUser(api.t.db, 'oscar', 'operator password', 'op');
  const readOnly = await createToken(api.t.db, 'oscar', 'read only', null, { role: 'viewer' });
  const viaReadOnly = withToken(readOnly.token);
  assert.equal((await viaReadOnly.req('GET', '/api/v1/dags')).status, 200);
  assert.equal((await viaReadOnly.req('POST', '/api/v1/dags/sec_dag/pause')).status, 403, 'a viewer token of an op cannot write');
  const up = await viaReadOnly.req('POST', '/api/v1/auth/tokens', { name: 'up', role: 'op' });
  assert.equal(up.status, 403, JSON.stringify(up.body));
  assert.equal(up.body.field, 'body.role');
  const viewer = new ApiClient(api.base);
  assert.equal((await viewer.login('vic', 'viewer password')).status, 200);
  assert.equal((await viewer.req('POST', '/api/v1/auth/tokens', { name: 'admin please', role: 'admin' })).status, 403);
  const same = await viaReadOnly.req('POST', '/api/v1/auth/tokens', { name: 'same' });
  assert.equal(same.status, 201);
  assert.equal(same.body.role, 'viewer', 'by default the role of its maker');
  await assert.rejects(createToken(api.t.db, 'vic', 'cli admin', null, { role: 'admin' }), /cannot rank above/);

  // A token never ranks above its user: demoting the user demotes its tokens at once.
  const full = withToken((await createToken(api.t.db, 'oscar', 'full', null)).token);
  assert.equal((await full.req('POST', '/api/v1/dags/sec_dag/unpause')).status, 200);
  assert.equal((await api.admin.req('PATCH', '/api/v1/users/oscar', { role: 'viewer' })).status, 200);
  assert.equal((await full.req('POST', '/api/v1/dags/sec_dag/unpause')).status, 403);
});

test('revoking a token revokes every token made with it', async () => {
  const root = await createToken(api.t.db, 'ada', 'root', null);
  const child = await withToken(root.token).req('POST', '/api/v1/auth/tokens', { name: 'child' });
  const grandchild = await withToken(child.body.token).req('POST', '/api/v1/auth/tokens', { name: 'grandchild' });
  assert.equal(grandchild.status, 201);
  assert.equal((await withToken(grandchild.body.token).req('GET', '/api/v1/dags')).status, 200);
  assert.equal((await api.admin.req('DELETE', `/api/v1/auth/tokens/${root.id}`)).status, 204);
  for (const t of [root.token, child.body.token, grandchild.body.token]) assert.equal((await withToken(t).req('GET', '/api/v1/dags')).status, 401);
});

test('admins disable users, change their password and role, and end all their sessions and tokens (API)', async () => {
  const a = api.admin;
  assert.equal((await a.req('POST', '/api/v1/users', { username: 'uma', password: 'uma password', role: 'op' })).status, 201);
  const uma = new ApiClient(api.base);
  assert.equal((await uma.login('uma', 'uma password')).status, 200);
  const umaToken = withToken((await createToken(api.t.db, 'uma', 'ci', null)).token);
  const listed = (await a.req('GET', '/api/v1/users')).body.users.find((u: { username: string }) => u.username === 'uma');
  assert.deepEqual({ role: listed.role, disabled: listed.disabled, liveTokens: listed.liveTokens }, { role: 'op', disabled: false, liveTokens: 1 });

  const disabled = await a.req('PATCH', '/api/v1/users/uma', { disabled: true });
  assert.equal(disabled.status, 200);
  assert.equal(disabled.body.disabled, true);
  assert.equal((await uma.req('GET', '/api/v1/auth/me')).status, 401, 'its session ended');
  assert.equal((await umaToken.req('GET', '/api/v1/dags')).status, 401, 'its token ended');
  assert.equal((await new ApiClient(api.base).login('uma', 'uma password')).status, 403, 'it cannot log in');
  assert.equal((await a.req('PATCH', '/api/v1/users/uma', { disabled: false })).status, 200);
  assert.equal((await uma.login('uma', 'uma password')).status, 200);
  assert.equal((await umaToken.req('GET', '/api/v1/dags')).status, 401, 'enabling restores no token');

  assert.equal((await a.req('PATCH', '/api/v1/users/uma', { password: 'a new password' })).status, 200);
  assert.equal((await uma.req('GET', '/api/v1/auth/me')).status, 401, 'a new password ends the sessions');
  assert.equal((await new ApiClient(api.base).login('uma', 'uma password')).status, 401);
  assert.equal((await uma.login('uma', 'a new password')).status, 200);

  assert.equal((await a.req('PATCH', '/api/v1/users/uma', { role: 'viewer' })).status, 200);
  assert.equal((await uma.req('PUT', '/api/v1/variables/by_uma', { value: 'x' })).status, 403, 'the new role counts at once');
  const again = withToken((await createToken(api.t.db, 'uma', 'again', null)).token);
  const ended = await a.req('POST', '/api/v1/users/uma/endSessions');
  assert.deepEqual(ended.body, { username: 'uma', sessions: 1, tokens: 1 });
  assert.equal((await uma.req('GET', '/api/v1/auth/me')).status, 401);
  assert.equal((await again.req('GET', '/api/v1/dags')).status, 401);

  const viewer = new ApiClient(api.base);
  await viewer.login('vic', 'viewer password');
  assert.equal((await viewer.req('GET', '/api/v1/users')).status, 403, 'admins only');
  assert.equal((await viewer.req('PATCH', '/api/v1/users/uma', { disabled: true })).status, 403);
  assert.equal((await a.req('PATCH', '/api/v1/users/ada', { role: 'viewer' })).status, 409, 'the last enabled admin stays');
  assert.equal((await a.req('PATCH', '/api/v1/users/nobody', { disabled: true })).status, 404);
  const bad = await a.req('PATCH', '/api/v1/users/uma', { password: 'short' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'body.password');
});

test('the CLI: passwords from standard input or a file (not the command line), and the same user administration', async () => {
  const env = { KEEL_DATABASE_URL: api.t.url, KEEL_DAGS_FOLDER: DAGS };
  const dir = mkdtempSync(join(tmpdir(), 'keel-password-'));
  try {
    const onCommandLine = await runKeel(['users', 'create', '--username', 'cli_u', '--password', 'visible in ps', '--role', 'op'], env);
    expectCode(onCommandLine, 2);
    assert.match(onCommandLine.stderr, /unknown option '--password'/);
    expectCode(await runKeel(['users', 'create', '--username', 'cli_u', '--role', 'op', '--password-stdin'], env, 'from standard input\n'), 0);
    assert.equal((await new ApiClient(api.base).login('cli_u', 'from standard input')).status, 200, 'the line break is not part of it');
    writeFileSync(join(dir, 'pw'), 'from a file\n', { mode: 0o600 });
    expectCode(await runKeel(['users', 'set-password', 'cli_u', '--password-file', join(dir, 'pw')], env), 0);
    assert.equal((await new ApiClient(api.base).login('cli_u', 'from a file')).status, 200);
    expectCode(await runKeel(['users', 'create', '--username', 'cli_v'], env), 2);

    const session = new ApiClient(api.base);
    await session.login('cli_u', 'from a file');
    const token = withToken((await createToken(api.t.db, 'cli_u', 'ci', null)).token);
    expectCode(await runKeel(['users', 'set-role', 'cli_u', 'viewer'], env), 0);
    assert.equal((await token.req('POST', '/api/v1/dags/sec_dag/pause')).status, 403);
    const tooHigh = await runKeel(['users', 'token', '--username', 'cli_u', '--role', 'op'], env);
    expectCode(tooHigh, 2);
    assert.match(tooHigh.stderr, /cannot rank above/);
    expectCode(await runKeel(['users', 'end-sessions', 'cli_u'], env), 0);
    assert.equal((await session.req('GET', '/api/v1/auth/me')).status, 401);
    assert.equal((await token.req('GET', '/api/v1/dags')).status, 401);
    expectCode(await runKeel(['users', 'disable', 'cli_u'], env), 0);
    assert.equal((await new ApiClient(api.base).login('cli_u', 'from a file')).status, 403);
    expectCode(await runKeel(['users', 'token', '--username', 'cli_u'], env), 2);
    expectCode(await runKeel(['users', 'enable', 'cli_u'], env), 0);
    const list = await runKeel(['users', 'list', '--json'], env);
    expectCode(list, 0);
    assert.deepEqual(JSON.parse(list.stdout).find((u: { username: string }) => u.username === 'cli_u').disabled, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ending sessions and disabling a user also ends its sessions in Redis', async () => {
  const redis = await startRedis();
  const copy = await startRoles(testOptions(api.t.url, DAGS, { apiPort: 0, apiDrainSec: 0, apiSessionStore: 'redis', redisUrl: redis.url, ...LOGINS }), ['api']);
  try {
    const base = `http://127.0.0.1:${copy.roles[0]!.apiPort}`;
    await createUser(api.t.db, 'rita', 'redis password', 'viewer');
    const rita = new ApiClient(base);
    assert.equal((await rita.login('rita', 'redis password')).status, 200);
    assert.equal((await rita.req('GET', '/api/v1/auth/me')).status, 200);
    assert.equal((await api.admin.req('POST', '/api/v1/users/rita/endSessions')).status, 200);
    assert.equal((await rita.req('GET', '/api/v1/auth/me')).status, 401, 'an older session epoch');
    assert.equal((await rita.login('rita', 'redis password')).status, 200);
    assert.equal((await rita.req('GET', '/api/v1/auth/me')).status, 200, 'a new login counts');
    assert.equal((await api.admin.req('PATCH', '/api/v1/users/rita', { disabled: true })).status, 200);
    assert.equal((await rita.req('GET', '/api/v1/auth/me')).status, 401, 'a disabled user');
  } finally {
    await copy.stop();
    await redis.stop();
  }
});
