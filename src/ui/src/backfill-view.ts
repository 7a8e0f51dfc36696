// The DAG page's backfills: a form (from, to, reprocess, max active runs; Preview is a dry
// run) and the DAG's backfills with a progress bar each, refreshed with the page.
import { api, ApiError } from './api.js';
import { badge, h, table } from './dom.js';

interface Backfill {
  id: string; state: string; from: string; to: string; reprocess: string; maxActiveRuns: number; createdBy: string;
  total: number; planned: number; active: number; success: number; failed: number; skipped: number;
}

const message = (err: unknown) => (err instanceof ApiError ? err.message : String(err));

export function backfillSection(dagId: string, startDate: string): { el: HTMLElement; refresh: () => Promise<void> } {
  const path = `/dags/${encodeURIComponent(dagId)}/backfills`;
  const out = h('p', { class: 'action-result', id: 'backfill-result' });
  const list = h('div', { id: 'backfills' });
  const from = h('input', { name: 'from', value: startDate, placeholder: '2026-01-01T00:00:00Z' }) as HTMLInputElement;
  const to = h('input', { name: 'to', placeholder: '2026-01-31T00:00:00Z' }) as HTMLInputElement;
  const reprocess = h('select', { name: 'reprocess' }, ...['none', 'failed', 'all'].map((v) => h('option', { value: v }, v))) as HTMLSelectElement;
  const maxActive = h('input', { name: 'maxActiveRuns', type: 'number', min: '1', step: '1', placeholder: "the DAG's" }) as HTMLInputElement;
  const send = async (dryRun: boolean) => {
    try {
      const b = await api('POST', path, { from: from.value.trim(), to: to.value.trim(), reprocess: reprocess.value, dryRun, ...(maxActive.value ? { maxActiveRuns: Number(maxActive.value) } : {}) });
      const count = (a: string) => b.dates.filter((d: { action: string }) => d.action === a).length;
      out.textContent = `${dryRun ? 'Would make' : `Backfill ${b.id}:`} ${b.dates.length} date(s): ${count('create')} to create, ${count('clear')} to clear, ${count('skip')} skipped${b.dagPaused ? ' (the DAG is paused: nothing runs until it is unpaused)' : ''}`;
      out.className = 'action-result';
      if (!dryRun) await refresh();
    } catch (err) {
      out.textContent = message(err);
      out.className = 'action-result error';
    }
  };
  const form = h('form', { class: 'trigger backfill' },
    h('h2', {}, 'Backfill'),
    h('label', {}, 'from (logical date, included)', from), h('label', {}, 'to (included)', to),
    h('label', {}, 'existing runs: reprocess', reprocess), h('label', {}, 'max active runs', maxActive),
    h('span', { class: 'row-actions' }, h('button', { type: 'button', onclick: () => void send(true) }, 'Preview'), h('button', { type: 'submit' }, 'Backfill')), out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void send(false);
  });
  const cancel = (id: string) => h('button', {
    class: 'danger',
    onclick: async () => {
      try {
        await api('POST', `/backfills/${id}/cancel`);
      } catch (err) {
        out.textContent = message(err);
        out.className = 'action-result error';
      }
      await refresh();
    },
  }, 'Cancel');
  const refresh = async () => {
    const { backfills } = await api('GET', `${path}?limit=10`);
    list.replaceChildren(backfills.length ? table(['#', 'state', 'range', 'progress', 'success', 'failed', 'skipped', 'active', 'by', ''], backfills.map((b: Backfill) => {
      const ended = b.success + b.failed + b.skipped;
      return [b.id, badge(b.state), `${b.from} – ${b.to}`, h('span', {}, h('progress', { value: String(ended), max: String(b.total) }), ` ${ended}/${b.total}`),
        b.success, b.failed, b.skipped, b.active, b.createdBy, b.state === 'running' ? cancel(b.id) : ''];
    })) : h('p', { class: 'muted' }, 'No backfills yet.'));
  };
  return { el: h('div', { class: 'columns backfills' }, form, h('section', {}, h('h2', {}, 'Backfills'), list)), refresh };
}
