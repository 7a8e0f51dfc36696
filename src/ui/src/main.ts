// The web UI's router: hash routes, one view at a time, refreshed every few seconds.
// A failed refresh (API copy or database gone) leaves the page as it was and shows a
// banner; the next refresh tries again.
import './style.css';
import { api, ApiError, setCsrf, showBanner } from './api.js';
import { h } from './dom.js';
import { browserZone, chosenZone, setTimeZone, zoneChoices, zoneLabel } from './timezone.js';
import { connectionsView, poolsView, variablesView } from './resource-views.js';
import { tokensView } from './tokens-view.js';
import { startNoticeBanner } from './notice.js';
import { dagsView, dagView, haView, importErrorsView, logView, loginView, runsView, runView } from './views.js';

const REFRESH_MS = 2000;
const routes: [RegExp, (root: HTMLElement, ...args: string[]) => Promise<(() => Promise<void>) | void>][] = [
  [/^#\/login$/, loginView],
  [/^#\/?$/, dagsView],
  [/^#\/dags\/([^/]+)$/, dagView],
  [/^#\/runs$/, runsView],
  [/^#\/runs\/(\d+)$/, runView],
  [/^#\/runs\/(\d+)\/tasks\/([^/]+)$/, logView],
  [/^#\/import-errors$/, importErrorsView],
  [/^#\/ha$/, haView],
  [/^#\/pools$/, poolsView],
  [/^#\/variables$/, variablesView],
  [/^#\/connections$/, connectionsView],
  [/^#\/tokens$/, tokensView],
];

let timer: number | undefined;
let generation = 0;

async function whoAmI(): Promise<void> {
  try {
    const me = await api('GET', '/auth/me');
    setCsrf(me.csrfToken);
    const who = document.getElementById('who')!;
    who.replaceChildren(`${me.user.username} (${me.user.role}) `);
    const out = document.createElement('button');
    out.textContent = 'Log out';
    out.onclick = async () => { await api('POST', '/auth/logout').catch(() => {}); setCsrf(null); who.textContent = ''; location.hash = '#/login'; };
    who.append(out);
  } catch {
    // 401 sends the user to the login page
  }
}

async function render(): Promise<void> {
  const mine = ++generation;
  window.clearInterval(timer);
  const root = document.getElementById('app')!;
  const hash = location.hash || '#/';
  const match = routes.map(([re, view]) => [re.exec(hash), view] as const).find(([m]) => m);
  if (!match) {
    notFound(root, `there is no page at ${hash}`);
    return;
  }
  const [m, view] = match;
  try {
    const refresh = await view(root, ...m!.slice(1).map(decodeURIComponent));
    if (refresh && mine === generation) {
      timer = window.setInterval(() => {
        refresh().catch((err) => {
          if (err instanceof ApiError && err.status === 404) {
            window.clearInterval(timer);
            notFound(root, err.message);
          } else if (!(err instanceof ApiError && err.status === 0)) showBanner(`Refresh failed: ${(err as Error).message}`);
        });
      }, REFRESH_MS);
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    // Asking again will not make a missing run or DAG appear: say so and stop.
    if (err instanceof ApiError && err.status === 404) {
      notFound(root, err.message);
      return;
    }
    root.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', textContent: `Could not load this page: ${(err as Error).message}. Retrying…` }));
    timer = window.setTimeout(() => void render(), REFRESH_MS);
  }
}

function notFound(root: HTMLElement, why: string): void {
  root.replaceChildren(h('section', { class: 'not-found', id: 'not-found' }, h('h1', {}, 'Not found'), h('p', {}, `${why[0]!.toUpperCase()}${why.slice(1)}.`), h('p', {}, h('a', { href: '#/' }, 'Back to the DAGs'))));
}

/** The header's time-zone setting; a change redraws the page in the new zone. */
function zonePicker(): void {
  const select = h('select', { id: 'tz-select', 'aria-label': 'Time zone of the times shown' },
    h('option', { value: '' }, `browser: ${zoneLabel(browserZone())}`),
    ...zoneChoices().map((z) => h('option', { value: z }, z))) as HTMLSelectElement;
  select.value = chosenZone() ?? '';
  const label = h('span', { id: 'tz-name' }, zoneLabel());
  select.addEventListener('change', () => {
    setTimeZone(select.value || null);
    label.textContent = zoneLabel();
    void render();
  });
  document.getElementById('tz')!.replaceChildren(h('label', { title: 'Times are shown in this zone (kept in this browser)' }, h('span', { class: 'nowrap' }, 'Times in'), label, select));
}

zonePicker();
window.addEventListener('hashchange', () => void render());
startNoticeBanner();
void whoAmI().then(render);
window.addEventListener('hashchange', () => { if (location.hash !== '#/login' && !document.getElementById('who')!.textContent) void whoAmI(); });
