// The web UI in a real browser: playwright-core drives Debian's Chromium (never a
// downloaded browser) against a cluster running the example DAGs. It logs in, sees the
// DAGs, triggers a run with params from the generated form, watches it succeed, reads a
// task log, edits pools, variables and connections (the server's field errors shown),
// makes and revokes an API token, sees a deferred task and the trigger it waits on, opens the HA
// dashboard, and sees a SIGKILLed scheduler marked dead.
// KEEL_UPDATE_SCREENSHOTS=1 writes the screenshots to docs/screenshots/ for docs/api-and-ui.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createUser } from '../../src/auth/users.js';
import { postExternalEvent } from '../../src/deferral/external-events.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, type TestCluster } from '../support/cluster.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';
import { requireTool } from '../support/tools.js';

const DAGS = fileURLToPath(new URL('../../examples/dags/', import.meta.url));
const SHOTS = process.env.KEEL_UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'keel-shots-'));
let t: TestDatabase;
let cluster: TestCluster;
let scheduler: KeelProcess;
let browser: BrowserContext;
let page: Page;
let base: string;
let profile: string;

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

before(async () => {
  const executablePath = requireTool('/usr/bin/chromium', 'chromium');
  mkdirSync(SHOTS, { recursive: true });
  t = await freshDatabase();
  cluster = await startRoles(testOptions(t.url, DAGS, { apiPort: 0, apiDrainSec: 0, secretKey: 'browser-test-secret-key' }), ['dag-processor', 'scheduler', 'worker', 'api', 'triggerer']);
  base = `http://127.0.0.1:${cluster.roles[3]!.apiPort}`;
  scheduler = spawnKeel(['scheduler'], { KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_DB_OUTAGE_GRACE_SEC: '0', KEEL_LOG_LEVEL: 'warn' });
  await waitForDag(t.db, 'hello');
  await waitForDag(t.db, 'example_etl');
  await waitForDag(t.db, 'daily_report');
  await createUser(t.db, 'admin', 'admin password', 'admin');
  profile = mkdtempSync(join(tmpdir(), 'keel-chromium-'));
  // A fresh profile folder each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(20000);
});

after(async () => {
  await browser?.close();
  await killAll(scheduler ? [scheduler] : []);
  await cluster?.stop();
  await t?.drop();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (!process.env.KEEL_UPDATE_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
});

test('log in and see the example DAGs', async () => {
  await page.goto(`${base}/`);
  await page.waitForURL(/#\/login$/);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', 'wrong password');
  await page.click('button[type=submit]');
  await page.getByText('wrong username or password').waitFor();
  await page.fill('input[name=password]', 'admin password');
  await shot('login');
  await page.click('button[type=submit]');
  await page.locator('a.dag-link', { hasText: 'hello' }).waitFor();
  await page.locator('a.dag-link', { hasText: 'example_etl' }).waitFor();
  assert.match(await page.locator('#who').innerText(), /admin \(admin\)/);
  await shot('dags');
});

test('trigger with params from the generated form, watch it succeed, read the task log', async () => {
  await page.click('a.dag-link:has-text("hello")');
  await page.locator('#param-name').waitFor();
  assert.equal(await page.inputValue('#param-name'), 'world', 'the form shows the default');
  await page.fill('#param-name', '');
  await page.click('form.trigger button[type=submit]');
  await page.getByText(/param "name"/).waitFor(); // minLength 1: the API names the param
  await page.fill('#param-name', 'Ada Lovelace');
  await page.click('form.trigger button[type=submit]');
  await page.waitForURL(/#\/runs\/\d+$/);
  await page.locator('h1 .state.s-success').waitFor({ timeout: 30000 });
  assert.match(await page.locator('main').innerText(), /Ada Lovelace/);
  await shot('run');
  await page.click('a:has-text("greet")');
  await page.locator('#log').getByText('hello, Ada Lovelace').waitFor();
  await page.getByText(/complete/).waitFor();
  await shot('log');
  const runId = /#\/runs\/(\d+)/.exec(page.url())![1]!;
  // Clear (retry) a task from the run page through the dialog, which lists what it will
  // change before the confirmation: it runs again and the run succeeds again.
  await page.goto(`${base}/#/runs/${runId}`);
  await page.locator('tr:has-text("report") button:has-text("Clear / mark")').click();
  const plan = page.locator('#lifecycle-plan');
  await plan.getByText('1 task instance will change').waitFor();
  await page.check('#lifecycle-dialog input[name=upstream]');
  await plan.getByText('3 task instances will change').waitFor();
  assert.deepEqual(await plan.locator('tbody td:first-child').allInnerTexts(), ['greet', 'count', 'report'], 'upstream adds every task before report');
  await shot('clear-dialog');
  await page.uncheck('#lifecycle-dialog input[name=upstream]');
  await plan.getByText('1 task instance will change').waitFor();
  assert.deepEqual(await plan.locator('tbody td:first-child').allInnerTexts(), ['report']);
  await page.click('#lifecycle-confirm');
  await page.locator('#lifecycle-dialog').waitFor({ state: 'detached' });
  await waitFor('report to run a second time', async () => (await t.db.query(`SELECT 1 FROM task_instance WHERE dag_run_id = $1 AND task_id = 'report' AND try_number = 2 AND state = 'success'`, [runId])).rowCount, 30000);
  await page.goto(`${base}/#/dags/hello`);
  await page.locator('svg.graph .node.s-success').first().waitFor();
  await page.locator('.grid-box a.cell.s-success').first().waitFor();
  await shot('dag');
});

test('edit pools, variables and connections; malformed input shows the server\'s field error; make and revoke an API token', async () => {
  const db = async (q: string, params: unknown[] = []) => (await t.db.query(q, params)).rows;
  await page.goto(`${base}/#/pools`);
  await page.fill('#pool-form-name', 'warehouse');
  await page.fill('#pool-form-slots', '-1');
  await page.click('#pool-form button[type=submit]');
  await page.locator('#pool-form .field-error', { hasText: 'body.slots must be >= 0' }).waitFor();
  assert.ok(await page.locator('#pool-form-slots.invalid').count(), 'the field is marked');
  assert.equal((await db(`SELECT 1 FROM pool WHERE name = 'warehouse'`)).length, 0, 'nothing written');
  await page.fill('#pool-form-slots', '3');
  await page.fill('#pool-form-description', 'the data warehouse');
  await page.click('#pool-form button[type=submit]');
  await page.locator('.resource-list tr:has-text("warehouse")').waitFor();
  await page.locator('.resource-list tr:has-text("warehouse") button.edit').click();
  assert.equal(await page.inputValue('#pool-form-slots'), '3');
  assert.equal(await page.locator('#pool-form-name').getAttribute('readonly'), '', 'the key is fixed while editing');
  await page.fill('#pool-form-slots', '7');
  await page.click('#pool-form button[type=submit]');
  await page.locator('.resource-list tr:has-text("warehouse") td:nth-child(2)', { hasText: '7' }).waitFor();
  assert.deepEqual(await db(`SELECT slots, description FROM pool WHERE name = 'warehouse'`), [{ slots: 7, description: 'the data warehouse' }]);
  await shot('pools');

  await page.goto(`${base}/#/variables`);
  await page.fill('#variable-form-key', 'bad key!');
  await page.fill('#variable-form-value', 'x');
  await page.click('#variable-form button[type=submit]');
  await page.locator('#variable-form .field-error', { hasText: 'params.key must match pattern' }).waitFor();
  for (const [key, value] of [['region', 'eu-west'], ['scratch', 'tmp']] as const) {
    await page.fill('#variable-form-key', key);
    await page.fill('#variable-form-value', value);
    await page.click('#variable-form button[type=submit]');
    await page.locator(`.resource-list tr:has-text("${key}")`).waitFor();
  }
  await page.locator('.resource-list tr:has-text("region") button.edit').click();
  await page.fill('#variable-form-value', 'eu-north');
  await page.fill('#variable-form-description', 'where the data lives');
  await page.click('#variable-form button[type=submit]');
  await page.locator('.resource-list tr:has-text("region")', { hasText: 'eu-north' }).waitFor();
  const del = page.locator('.resource-list tr:has-text("scratch") button.danger');
  await del.click();
  await del.click(); // the second click confirms
  await page.locator('.resource-list tr:has-text("scratch")').waitFor({ state: 'detached' });
  assert.deepEqual(await db(`SELECT key, value, description FROM variable ORDER BY key`), [{ key: 'region', value: 'eu-north', description: 'where the data lives' }]);

  await page.goto(`${base}/#/connections`);
  await page.fill('#connection-form-connId', 'warehouse_db');
  await page.fill('#connection-form-connType', 'postgres');
  await page.fill('#connection-form-host', 'db');
  await page.fill('#connection-form-port', '70000');
  await page.fill('#connection-form-password', 's3cret-value');
  await page.fill('#connection-form-extra', '{"sslmode": "require"}');
  await page.click('#connection-form button[type=submit]');
  await page.locator('#connection-form .field-error', { hasText: 'body.port must be <= 65535' }).waitFor();
  await page.fill('#connection-form-port', '5432');
  await page.click('#connection-form button[type=submit]');
  await page.locator('.resource-list tr:has-text("warehouse_db")', { hasText: 'set' }).waitFor();
  await page.locator('.resource-list tr:has-text("warehouse_db") button.edit').click();
  assert.equal(await page.inputValue('#connection-form-password'), '', 'the password is never shown back');
  await page.fill('#connection-form-host', 'db2');
  await page.click('#connection-form button[type=submit]');
  await page.locator('.resource-list tr:has-text("warehouse_db")', { hasText: 'db2' }).waitFor();
  const [conn] = await db(`SELECT host, port, password_encrypted IS NOT NULL AS has_password FROM connection WHERE conn_id = 'warehouse_db'`);
  assert.deepEqual(conn, { host: 'db2', port: 5432, has_password: true }, 'an edit without a new password keeps the stored one');
  assert.doesNotMatch(await page.content(), /s3cret/);
  await shot('connections');

  await page.goto(`${base}/#/tokens`);
  await page.fill('#token-name', 'ci');
  await page.click('#token-form button[type=submit]');
  assert.match(await page.locator('#new-token').innerText(), /^keel_/);
  const row = page.locator('section tr:has-text("ci")');
  await row.waitFor();
  await shot('tokens');
  await row.locator('button.danger').click();
  await row.locator('button.danger').click();
  await row.waitFor({ state: 'detached' });
  assert.equal((await db(`SELECT 1 FROM api_token WHERE name = 'ci'`)).length, 0, 'revoked');
});

test('a deferred task: its own colour in the grid and legend, the trigger it waits on and its holder on the task page', async () => {
  const day = '2026-01-02';
  await page.goto(`${base}/#/dags/daily_report`);
  await page.fill('#param-day', day);
  await page.click('form.trigger button[type=submit]');
  await page.waitForURL(/#\/runs\/\d+$/);
  const runId = /#\/runs\/(\d+)/.exec(page.url())![1]!;
  // "settle" defers on a 10 s timer, then "report_ready" waits on the external event.
  await page.locator('tr:has-text("report_ready") .state.s-deferred').waitFor({ timeout: 40000 });
  await page.goto(`${base}/#/dags/daily_report`);
  await page.locator('.grid-box a.cell.s-deferred').first().waitFor();
  await page.locator('.legend .legend-item:has-text("deferred") .cell.s-deferred').waitFor();
  await page.goto(`${base}/#/runs/${runId}/tasks/report_ready`);
  await page.locator('#trigger', { hasText: `external event "report-ready-${day}"` }).waitFor();
  await page.locator('#trigger', { hasText: /pid \d+/ }).waitFor({ timeout: 30000 }); // held by the triggerer
  await shot('deferred');
  await page.goto(`${base}/#/ha`);
  await page.getByText(/\d+ \/ \d+ trigger\(s\)/).first().waitFor();
  await postExternalEvent(t.db, `report-ready-${day}`, { rows: 3 });
  await page.goto(`${base}/#/runs/${runId}`);
  await page.locator('h1 .state.s-success').waitFor({ timeout: 30000 });
});

test('HA dashboard: a SIGKILLed scheduler is marked dead', async () => {
  await page.goto(`${base}/#/ha`);
  await page.locator('h1', { hasText: 'HA dashboard' }).waitFor();
  await waitFor('two schedulers on the dashboard', async () => (await page.locator('tbody tr:has-text("scheduler") .state.s-running').count()) === 2, 30000);
  assert.match(await page.locator('main').innerText(), /database: primary/);
  scheduler.child.kill('SIGKILL');
  await page.locator('tbody tr:has-text("scheduler") .state.s-dead').waitFor({ timeout: 30000 });
  await page.locator('ol.timeline li.ev-component_dead').first().waitFor({ timeout: 10000 });
  await shot('ha');
});
