// Tiny DOM helpers: every text goes through textContent, never innerHTML, so DAG, task
// and log content cannot inject markup.
import { stateText } from './states.js';
import { formatTime, zoneLabel } from './timezone.js';

type Child = Node | string | number | null | undefined | false;

export function h(tag: string, attrs: Record<string, string | boolean | ((e: Event) => void) | undefined> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

export const badge = (state: string | null | undefined) => h('span', { class: `state s-${state ?? 'none'}` }, state ? stateText(state) : '—');
/** A time in the user's zone, the zone in its tooltip. */
export const time = (v: string | null | undefined): HTMLElement | string => (v ? h('time', { datetime: v, title: `${zoneLabel()} · ${new Date(v).toISOString()}` }, formatTime(v)) : '—');
/** A duration in seconds, as people read it. */
export const duration = (sec: number) => (sec < 60 ? `${sec.toFixed(1)} s` : sec < 3600 ? `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s` : `${Math.floor(sec / 3600)} h ${Math.round((sec % 3600) / 60)} min`);
export const ago = (sec: number) => (sec < 60 ? `${sec.toFixed(1)} s` : sec < 3600 ? `${Math.round(sec / 60)} min` : `${Math.round(sec / 3600)} h`);

/** A table in a box that scrolls sideways on a narrow screen, so the page itself never does. */
export function table(headers: Child[], rows: Child[][], attrs: Record<string, string> = {}): HTMLElement {
  return h('div', { class: 'scroll' }, h('table', attrs, h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', {}, x)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c)))))));
}
