// The web UI in a real browser at desktop size (1400×900): playwright-core drives Debian's
// Chromium (never a downloaded browser) against a cluster running the example DAGs and
// ui_shapes (test/support/browser.ts). It logs in, searches and filters the DAG list,
// triggers a run with params from the generated form, watches it succeed, reads a task's
// log and result, the run's Gantt chart and code, sees failed and upstream_failed apart and
// a graph whose edges pass under no node, switches the time zone, gets "not found" for a
// missing run, edits pools, variables and connections (the server's field errors shown),
// makes and revokes an API token, sees a deferred task and the trigger it waits on, opens
// the HA dashboard with its single points of failure, and sees a SIGKILLed scheduler marked
// dead. No page sticks out of the viewport. api-browser-phone.test.ts does the same at 360 px.
// KEEL_UPDATE_SCREENSHOTS=1 (`npm run screenshots`) writes the screenshots to docs/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { createUser } from '../../src/auth/users.js';
import { postExternalEvent } from '../../src/deferral/external-events.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';
import { graphGeometry, launchChromium, overflowProblems, uiDags } from '../support/browser.js';
import type { TempDags } from '../support/temp-dags.js';

let dags: TempDags;
// The page's globals, for the functions page.evaluate and addInitScript run there (the Node tsconfig has no DOM lib).
type Dom = any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: Dom;
declare function getComputedStyle(el: Dom, pseudo?: string): Dom;
const SHOTS = process.env.KEEL_UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'keel-shots-'));
let t: TestDatabase;
let cluster: TestCluster;
let scheduler: KeelProcess;
let browser: BrowserContext;
let page: Page;
let base: string;
let profile: string;

/** A viewport-sized screenshot (small PNGs), after checking that nothing sticks out of the page. */
const shot = async (name: string) => {
  assert.deepEqual(await overflowProblems(page), [], `${name}: nothing sticks out at 1400 px`);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
};

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  t = await freshDatabase();
  dags = uiDags();
  cluster = await startRoles(testOptions(t.url, dags.dir, { apiPort: 0, apiDrainSec: 0, secretKey: 'browser-test-secret-key', expectedCopies: 'scheduler=2,worker=1,dag-processor=1,triggerer=1,api=1' }), ['dag-processor', 'scheduler', 'worker', 'api', 'triggerer']);
  base = `http://127.0.0.1:${cluster.roles[3]!.apiPort}`;
  // The second scheduler on a node of its own (KEEL_NODE_NAME): two copies on one node would not be redundant.
  scheduler = spawnKeel(['scheduler'], { KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: dags.dir, KEEL_DB_OUTAGE_GRACE_SEC: '0', KEEL_LOG_LEVEL: 'warn', KEEL_NODE_NAME: 'second-node' });
  for (const id of ['hello', 'example_etl', 'daily_report', 'ui_shapes']) await waitForDag(t.db, id);
  await createUser(t.db, 'admin', 'admin password', 'admin');
  ({ context: browser, page, profile } = await launchChromium({ width: 1400, height: 900 }, 'Europe/Berlin'));
});

after(async () => {
  await browser?.close();
  await killAll(scheduler ? [scheduler] : []);
  await cluster?.stop();
  await t?.drop();
  dags?.cleanup();
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
  // Search by id or description, filter by tag (a tag button sets the filter).
  await page.fill('#dag-search', 'etl');
  assert.deepEqual(await page.locator('a.dag-link').allInnerTexts(), ['example_etl']);
  await page.fill('#dag-search', 'letters');
  assert.deepEqual(await page.locator('a.dag-link').allInnerTexts(), ['hello'], 'the description matches too');
  await page.fill('#dag-search', '');
  await page.locator('tr:has-text("ui_shapes") button.tag:has-text("ui")').click();
  assert.deepEqual(await page.locator('a.dag-link').allInnerTexts(), ['ui_shapes']);
  assert.equal(await page.inputValue('#dag-tag'), 'ui');
  await page.selectOption('#dag-tag', '');
  await page.locator('a.dag-link', { hasText: 'daily_report' }).waitFor();
  assert.match(await page.locator('tr:has-text("ui_shapes")').innerText(), /never run.*manual only/s);
  assert.match(await page.locator('#dag-list tr:has-text("example_etl") td:nth-child(6)').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'the next run, in the browser\'s zone');
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
  // The Gantt chart: a bar per task, in the order they ran; the code of the run's DAG version.
  await waitFor('three bars', async () => (await page.locator('#gantt rect.bar.s-success').count()) === 3);
  const bars = await page.locator('#gantt rect.bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('x'))));
  assert.ok(bars[0]! < bars[1]! && bars[1]! < bars[2]!, `greet, count, report start one after another: ${bars}`);
  await page.locator('#code details[open] pre', { hasText: "id: 'hello'" }).waitFor();
  await shot('run');
  await page.click('a:has-text("greet")');
  await page.locator('#log').getByText('hello, Ada Lovelace').waitFor();
  await page.getByText(/complete/).waitFor();
  assert.equal(await page.locator('#result').innerText(), '"hello, Ada Lovelace"', "the task's result, as JSON");
  await shot('task');
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
  await page.goto(`${base}/#/`);
  await page.locator('tr:has-text("hello") .last-run .state.s-success').waitFor();
  await shot('dags');
});

/** MM-DD HH:mm or YYYY-MM-DD HH:mm:ss in a zone, as the UI writes it. */
function inZone(d: Date, timeZone: string, short = false): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(d).map((x) => [x.type, x.value]));
  return short ? `${p.month}-${p.day} ${p.hour}:${p.minute}` : `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

let shapesRun: { id: string; logicalDate: Date };

test('failed and upstream_failed differ in colour and pattern; the graph has arrowheads and no edge under a node; the grid is labelled by logical date', async () => {
  const run = await triggerDag(t.db, 'ui_shapes');
  assert.equal(await waitForRunEnd(t.db, run.id), 'failed');
  shapesRun = { id: run.id, logicalDate: (await t.db.query<{ logical_date: Date }>('SELECT logical_date FROM dag_run WHERE id = $1', [run.id])).rows[0]!.logical_date };
  await page.goto(`${base}/#/dags/ui_shapes`);
  const failed = page.locator('.grid-box a.cell.s-failed');
  const upstreamFailed = page.locator('.grid-box a.cell.s-upstream_failed');
  await failed.waitFor();
  await upstreamFailed.waitFor();
  const look = (el: Dom) => ({ colour: getComputedStyle(el).backgroundColor, pattern: getComputedStyle(el).backgroundImage, marker: getComputedStyle(el, '::after').content });
  const f = await failed.evaluate(look);
  const u = await upstreamFailed.evaluate(look);
  assert.notEqual(f.colour, u.colour, 'different hues');
  assert.notEqual(f.pattern, u.pattern, 'and different patterns, for colour-blind eyes');
  assert.equal(f.marker, '"✕"');
  const fill = (task: string) => page.locator(`svg.graph g.node[data-task="${task}"] rect.box`).evaluate((el) => getComputedStyle(el).fill);
  assert.notEqual(await fill('broken'), await fill('after_broken'), 'graph nodes too');
  assert.equal(await page.locator('svg.graph g.node[data-task="after_broken"] .node-state').textContent(), '▲ upstream_failed', 'and in words');
  assert.equal(await page.locator('#legend .legend-item').count(), 11, 'every task state in the legend');
  const g = await graphGeometry(page);
  assert.deepEqual({ nodes: g.nodes, edges: g.edges, withArrow: g.withArrow }, { nodes: 5, edges: 5, withArrow: 5 });
  assert.deepEqual(g.crossings, [], 'start → sink goes around middle');
  assert.equal(await page.locator('.grid-box .run-col .col-date').last().innerText(), inZone(shapesRun.logicalDate, 'Europe/Berlin', true), 'the column is the logical date');
  assert.ok(Number((await page.locator('.grid-box .run-bar').last().evaluate((el) => getComputedStyle(el).height)).replace('px', '')) >= 3, 'a duration bar');
  await shot('dag');
  await page.locator('svg.graph g.node[data-task="broken"]').click();
  await page.locator('#task-error', { hasText: 'broken on purpose' }).waitFor();
  await page.goto(`${base}/#/dags/example_etl`);
  await page.locator('svg.graph g.node').first().waitFor();
  const etl = await graphGeometry(page);
  assert.deepEqual({ nodes: etl.nodes, edges: etl.edges, withArrow: etl.withArrow, crossings: etl.crossings }, { nodes: 6, edges: 5, withArrow: 5, crossings: [] });
});

test('times in a chosen time zone, named in the header and kept across reloads; a missing run says "not found" and is not asked for again', async () => {
  await page.goto(`${base}/#/runs/${shapesRun.id}`);
  const logical = page.locator('main h1 + p.muted time');
  assert.match(await page.locator('#tz-name').innerText(), /^Europe\/Berlin \(GMT\+[12]\)$/, "the browser's zone by default");
  assert.equal(await logical.innerText(), inZone(shapesRun.logicalDate, 'Europe/Berlin'));
  await page.selectOption('#tz-select', 'Asia/Tokyo');
  await page.locator('#tz-name', { hasText: 'Asia/Tokyo (GMT+9)' }).waitFor();
  assert.equal(await logical.innerText(), inZone(shapesRun.logicalDate, 'Asia/Tokyo'));
  await page.reload();
  await page.locator('#tz-name', { hasText: 'Asia/Tokyo' }).waitFor();
  assert.equal(await logical.innerText(), inZone(shapesRun.logicalDate, 'Asia/Tokyo'), 'kept in this browser');
  await page.selectOption('#tz-select', '');
  await page.locator('#tz-name', { hasText: 'Europe/Berlin' }).waitFor();

  // The router's timers, counted on a page of its own: after "not found", none is left to retry.
  const probe = await browser.newPage();
  await probe.addInitScript(() => {
    const live = new Set<number>();
    const [st, si, ct, ci] = [window.setTimeout, window.setInterval, window.clearTimeout, window.clearInterval];
    // The notice banner's own poll (src/ui/src/notice.ts, every 5 s on every page) is not a retry.
    const NOTICE_POLL_MS = 5000;
    window.setTimeout = (fn: () => void, ms?: number) => { const id = st(() => { live.delete(id); fn(); }, ms); if ((ms ?? 0) >= 1000) live.add(id); return id; };
    window.setInterval = (fn: () => void, ms?: number) => { const id = si(fn, ms); if ((ms ?? 0) >= 1000 && ms !== NOTICE_POLL_MS) live.add(id); return id; };
    window.clearTimeout = (id: number) => { live.delete(id); ct(id); };
    window.clearInterval = (id: number) => { live.delete(id); ci(id); };
    window.liveTimers = () => live.size;
  });
  await probe.goto(`${base}/#/runs/999999`);
  await probe.locator('#not-found', { hasText: 'No DAG run with id 999999' }).waitFor();
  assert.equal(await probe.evaluate(() => window.liveTimers()), 0, 'no retry scheduled');
  assert.doesNotMatch(await probe.locator('main').innerText(), /Retrying/);
  await probe.goto(`${base}/#/runs/999999/tasks/nope`);
  await probe.locator('#not-found', { hasText: 'No task "nope" in run 999999' }).waitFor();
  await probe.screenshot({ path: join(SHOTS, 'not-found.png') });
  await probe.close();
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
  // Every role, alive against configured copies; one copy or an unreplicated database is a single point of failure.
  assert.deepEqual(await page.locator('#ha-roles tbody td:first-child').allInnerTexts(), ['scheduler', 'worker', 'dag-processor', 'triggerer', 'api', 'database']);
  assert.match(await page.locator('#ha-roles tr:has-text("scheduler")').innerText(), /scheduler\s+2\s+2\s+redundant/);
  assert.equal(await page.locator('#spof').innerText(), 'Single point(s) of failure: worker, dag-processor, triggerer, api, database. One crash there stops that duty until it is back.');
  scheduler.child.kill('SIGKILL');
  await page.locator('tbody tr:has-text("scheduler") .state.s-dead').waitFor({ timeout: 30000 });
  await page.locator('ol.timeline li.ev-component_dead').first().waitFor({ timeout: 10000 });
  await page.locator('#spof', { hasText: 'scheduler' }).waitFor();
  assert.match(await page.locator('#ha-roles tr:has-text("scheduler")').innerText(), /scheduler\s+1\s+2\s+⚠ below/);
  await shot('ha');
});
