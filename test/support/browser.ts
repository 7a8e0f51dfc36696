// The checks a person makes by looking at a page, done from the DOM in real Chromium:
// nothing sticks out past the viewport, links are readable on their background, and no
// graph edge runs under a node's box. playwright-core drives Debian's /usr/bin/chromium.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { dagSource, SDK_URL, tempDags, type TempDags } from './temp-dags.js';
import { requireTool } from './tools.js';

// The page's globals, for the functions page.evaluate runs there (the Node tsconfig has no DOM lib).
type Dom = any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const document: Dom, DOMPoint: Dom;
declare function getComputedStyle(el: Dom, pseudo?: string): Dom;

const EXAMPLES = fileURLToPath(new URL('../../examples/dags/', import.meta.url));

/**
 * The example DAGs and ui_shapes, a DAG drawn to catch a bad graph layout and to show a
 * failure: start → sink skips past middle (a layered drawing without routing runs that edge
 * under middle's box), and broken fails with no retry, so after_broken is upstream_failed.
 */
export function uiDags(): TempDags {
  const dags = tempDags('keel-ui-dags-');
  for (const f of readdirSync(EXAMPLES).filter((x) => x.endsWith('.ts'))) dags.write(f, readFileSync(join(EXAMPLES, f), 'utf8').replace(/from 'keel'/g, `from ${JSON.stringify(SDK_URL)}`));
  dags.write('ui_shapes.ts', dagSource(`export default dag({ id: 'ui_shapes', description: 'A skip edge, a fan-out, a failure and its downstream', tags: ['ui'] }, (d) => {
  const start = d.task('start', () => ({ rows: 3 }));
  const middle = d.task('middle', { upstream: start }, () => 1);
  d.task('sink', { upstream: [start, middle] }, () => 2);
  const broken = d.task('broken', { upstream: start, retries: 0 }, () => { throw new Error('broken on purpose'); });
  d.task('after_broken', { upstream: broken }, () => 3);
});`));
  return dags;
}

export async function launchChromium(viewport: { width: number; height: number }, timezoneId: string): Promise<{ context: BrowserContext; page: Page; profile: string }> {
  const executablePath = requireTool('/usr/bin/chromium', 'chromium');
  // A fresh profile folder each run (playwright passes it as --user-data-dir).
  const profile = mkdtempSync(join(tmpdir(), 'keel-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath, headless: true, viewport, timezoneId, locale: 'en-US',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // tsx compiles the functions this file hands to page.evaluate with esbuild's keepNames, which calls a __name helper the page lacks.
  await context.addInitScript('window.__name = (f) => f;');
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(20000);
  return { context, page, profile };
}

export async function logIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/#/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.locator('#who', { hasText: username }).waitFor();
}

/**
 * What sticks out to the right of the viewport: the document scrolling sideways, or any
 * visible element or text whose right edge is past the viewport and which no scrolling box
 * (a wide table's own scroller) holds.
 */
export function overflowProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const root = document.documentElement;
    const vw = root.clientWidth;
    const out: string[] = [];
    if (root.scrollWidth > vw) out.push(`the document is ${root.scrollWidth} px wide in a ${vw} px viewport`);
    const clipped = (el: Dom) => {
      for (let a: Dom = el.parentElement; a && a !== document.body; a = a.parentElement) if (getComputedStyle(a).overflowX !== 'visible') return true;
      return false;
    };
    for (const el of document.body.querySelectorAll('*') as Dom[]) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.right <= vw + 0.5 || clipped(el) || el.closest('dialog:not([open])')) continue;
      out.push(`<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}> ends at ${Math.round(r.right)} px > ${vw} px: "${(el.textContent ?? '').trim().slice(0, 40)}"`);
    }
    // Text past the edge of a box that stays inside (a long unbreakable word).
    const walker = document.createTreeWalker(document.body, 4 /* NodeFilter.SHOW_TEXT */);
    for (let n: Dom = walker.nextNode(); n; n = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(n);
      const r = range.getBoundingClientRect();
      if (r.width > 0 && r.right > vw + 0.5 && !clipped(n)) out.push(`text "${n.textContent.trim().slice(0, 40)}" ends at ${Math.round(r.right)} px > ${vw} px`);
    }
    return out.slice(0, 10);
  });
}

/** Links whose text contrast with the colour behind them is below 3:1 (white on white, say). */
export function unreadableLinks(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (c: string): number[] => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const behind = (el: Dom): number[] => {
      for (let a: Dom = el; a; a = a.parentElement) {
        const c = rgb(getComputedStyle(a).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out: string[] = [];
    for (const a of document.querySelectorAll('a') as Dom[]) {
      const r = a.getBoundingClientRect();
      if (r.width === 0 || !(a.textContent ?? '').trim()) continue;
      const fg = lum(rgb(getComputedStyle(a).color).slice(0, 3));
      const bg = lum(behind(a));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 3) out.push(`"${a.textContent!.trim()}" contrast ${ratio.toFixed(2)}`);
    }
    return out;
  });
}

/**
 * The graph's geometry: for each edge, points every 2 px along its path (in screen
 * coordinates) that fall inside the box of a node other than its two ends; and whether
 * every edge ends in the arrowhead marker.
 */
export function graphGeometry(page: Page): Promise<{ nodes: number; edges: number; withArrow: number; crossings: string[] }> {
  return page.evaluate(() => {
    const svg = document.querySelector('svg.graph');
    const nodes = ([...svg.querySelectorAll('g.node')] as Dom[]).map((g) => ({ id: g.dataset.task!, r: g.querySelector('rect.box')!.getBoundingClientRect() }));
    const paths = [...svg.querySelectorAll('path.edge')] as Dom[];
    const crossings: string[] = [];
    for (const p of paths) {
      const m = p.getScreenCTM()!;
      const len = p.getTotalLength();
      for (let s = 0; s <= len; s += 2) {
        const q = new DOMPoint(p.getPointAtLength(s).x, p.getPointAtLength(s).y).matrixTransform(m);
        for (const n of nodes) {
          if (n.id === p.dataset.from || n.id === p.dataset.to) continue;
          if (q.x > n.r.left && q.x < n.r.right && q.y > n.r.top && q.y < n.r.bottom) crossings.push(`${p.dataset.from} → ${p.dataset.to} passes under ${n.id}`);
        }
      }
    }
    const withArrow = paths.filter((p) => p.getAttribute('marker-end') === 'url(#arrow)' && svg.querySelector('marker#arrow path')).length;
    return { nodes: nodes.length, edges: paths.length, withArrow, crossings: [...new Set(crossings)] };
  });
}
