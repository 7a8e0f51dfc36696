// The web UI on a phone (360 × 740) in real Chromium: every page, checked as a person would
// look at it — the page never scrolls sideways and no element sticks out past the screen
// (wide tables, the grid and the graph scroll inside their own boxes), every link is
// readable on its background, failed and upstream_failed still differ, and the graph's
// edges still pass under no node. Its own file, so that each browser test file stays well
// under 90 s; KEEL_UPDATE_SCREENSHOTS=1 (`npm run screenshots`) writes the *-phone.png
// screenshots to docs/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { createUser } from '../../src/auth/users.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { graphGeometry, launchChromium, logIn, overflowProblems, uiDags, unreadableLinks } from '../support/browser.js';
import type { TempDags } from '../support/temp-dags.js';

// The page's globals, for the functions page.evaluate runs there (the Node tsconfig has no DOM lib).
type Dom = any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare function getComputedStyle(el: Dom): Dom;

const SHOTS = process.env.KEEL_UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'keel-shots-'));
let t: TestDatabase;
let dags: TempDags;
let cluster: TestCluster;
let browser: BrowserContext;
let page: Page;
let base: string;
let profile: string;
let helloRun: string;
let shapesRun: string;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  t = await freshDatabase();
  dags = uiDags();
  cluster = await startRoles(testOptions(t.url, dags.dir, { apiPort: 0, apiDrainSec: 0 }), ['dag-processor', 'scheduler', 'worker', 'api']);
  base = `http://127.0.0.1:${cluster.roles[3]!.apiPort}`;
  await waitForDag(t.db, 'hello');
  await waitForDag(t.db, 'ui_shapes');
  await createUser(t.db, 'admin', 'admin password', 'admin');
  helloRun = (await triggerDag(t.db, 'hello', { params: { name: 'phone' } })).id;
  shapesRun = (await triggerDag(t.db, 'ui_shapes')).id;
  ({ context: browser, page, profile } = await launchChromium({ width: 360, height: 740 }, 'America/New_York'));
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
  await t?.drop();
  dags?.cleanup();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (!process.env.KEEL_UPDATE_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
});

async function looksRight(name: string): Promise<void> {
  assert.deepEqual(await overflowProblems(page), [], `${name}: nothing sticks out at 360 px`);
  assert.deepEqual(await unreadableLinks(page), [], `${name}: every link readable`);
  await page.screenshot({ path: join(SHOTS, `${name}-phone.png`) });
}

test('the login page fits a phone', async () => {
  await page.goto(`${base}/#/login`);
  await page.locator('form#login').waitFor();
  await looksRight('login');
});

test('every page fits a phone: no sideways scrolling, nothing past the screen, readable links', async () => {
  await logIn(page, base, 'admin', 'admin password');
  assert.equal(await waitForRunEnd(t.db, helloRun), 'success');
  assert.equal(await waitForRunEnd(t.db, shapesRun), 'failed');
  const pages: [string, string, string][] = [
    ['dags', '#/', 'tr:has-text("hello") .last-run .state.s-success'],
    ['dag', '#/dags/ui_shapes', 'svg.graph g.node.s-upstream_failed'],
    ['run', `#/runs/${helloRun}`, '#code details[open] pre'],
    ['task', `#/runs/${helloRun}/tasks/greet`, '#result'],
    ['runs', '#/runs', 'main tbody tr'],
    ['import-errors', '#/import-errors', 'main h1'],
    ['ha', '#/ha', '#ha-roles tbody tr'],
    ['pools', '#/pools', '.resource-list tr:has-text("default_pool")'],
    ['variables', '#/variables', '#variable-form'],
    ['connections', '#/connections', '#connection-form'],
    ['tokens', '#/tokens', '#token-form'],
    ['not-found', `#/runs/${Number(shapesRun) + 1000}`, '#not-found'],
  ];
  for (const [name, hash, ready] of pages) {
    await page.goto(`${base}/${hash}`);
    await page.locator(ready).first().waitFor();
    if (name === 'run') await page.locator('#gantt rect.bar.s-success').nth(2).waitFor();
    await looksRight(name);
  }
});

test('on a phone too: failed and upstream_failed differ, the graph routes around nodes, the clear dialog fits', async () => {
  await page.goto(`${base}/#/dags/ui_shapes`);
  await page.locator('svg.graph g.node.s-upstream_failed').waitFor();
  const colour = (sel: string) => page.locator(sel).first().evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(await colour('.grid-box a.cell.s-failed'), await colour('.grid-box a.cell.s-upstream_failed'));
  assert.deepEqual((await graphGeometry(page)).crossings, []);
  await page.goto(`${base}/#/runs/${shapesRun}`);
  await page.locator('#run-tasks tr:has-text("broken") button.task-actions').first().click();
  await page.locator('#lifecycle-plan').getByText(/will change/).waitFor();
  assert.deepEqual(await overflowProblems(page), [], 'the dialog fits');
});
