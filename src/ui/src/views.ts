// The pages of the web UI. Each view renders into a container and returns a refresh
// function that the router calls every few seconds while the page is shown.
import { backfillSection } from './backfill-view.js';
import { api, ApiError, setCsrf } from './api.js';
import { ago, badge, h, svg, table, time } from './dom.js';
import { openLifecycleDialog } from './lifecycle-dialog.js';

type View = (root: HTMLElement, ...args: string[]) => Promise<(() => Promise<void>) | void>;

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

function action(label: string, fn: () => Promise<unknown>, after?: () => void, cls = ''): HTMLElement {
  const out = h('span', { class: 'action-result' });
  const btn = h('button', {
    class: cls,
    onclick: async () => {
      btn.setAttribute('disabled', '');
      try {
        await fn();
        out.textContent = '✓';
        after?.();
      } catch (err) {
        out.textContent = message(err);
        out.className = 'action-result error';
      } finally {
        btn.removeAttribute('disabled');
      }
    },
  }, label);
  return h('span', {}, btn, out);
}

export const loginView: View = async (root) => {
  const err = h('p', { class: 'error', id: 'login-error' });
  const form = h('form', { id: 'login' },
    h('h1', {}, 'Log in to Keel'),
    h('label', {}, 'Username', h('input', { name: 'username', autocomplete: 'username', required: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit' }, 'Log in'), err,
    h('p', { class: 'hint' }, 'No user yet? Create the first admin: keel users create --username admin --role admin --password-stdin'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form as HTMLFormElement);
    try {
      const r = await api('POST', '/auth/login', { username: data.get('username'), password: data.get('password') });
      setCsrf(r.csrfToken);
      document.getElementById('who')!.textContent = `${r.user.username} (${r.user.role})`;
      location.hash = '#/';
    } catch (x) {
      err.textContent = message(x);
    }
  });
  root.replaceChildren(form);
};

function nextRun(d: { isPaused: boolean; nextDagrunAt: string | null; schedule: { kind: string } }): string {
  if (d.schedule.kind === 'none' || !d.nextDagrunAt) return 'manual only';
  return d.isPaused ? `paused (due ${time(d.nextDagrunAt)})` : time(d.nextDagrunAt);
}

export const dagsView: View = async (root) => {
  const body = h('div');
  root.replaceChildren(h('h1', {}, 'DAGs'), body);
  const refresh = async () => {
    const { dags, importErrors } = await api('GET', '/dags');
    body.replaceChildren(
      importErrors.length ? h('p', { class: 'warn' }, h('a', { href: '#/import-errors' }, `${importErrors.length} DAG file(s) failed to load`)) : '',
      table(['DAG', 'schedule', 'tags', 'latest runs', 'next run', ''], dags.map((d: any) => [ // eslint-disable-line @typescript-eslint/no-explicit-any
        h('a', { href: `#/dags/${encodeURIComponent(d.dagId)}`, class: 'dag-link' }, d.dagId),
        d.schedule.kind === 'cron' ? d.schedule.expression : d.schedule.kind === 'interval' ? `every ${d.schedule.seconds}s` : 'manual',
        (d.tags ?? []).join(', '),
        h('span', { class: 'runs' }, ...d.recentRuns.map((r: { id: string; state: string; logicalDate: string }) => h('a', { href: `#/runs/${r.id}`, title: `${r.state} ${time(r.logicalDate)}`, class: `dot s-${r.state}` }, ''))),
        nextRun(d),
        action(d.isPaused ? 'Unpause' : 'Pause', () => api('POST', `/dags/${encodeURIComponent(d.dagId)}/${d.isPaused ? 'unpause' : 'pause'}`), () => void refresh()),
      ])),
    );
  };
  await refresh();
  return refresh;
};

interface Task { taskId: string; upstream: string[]; kind?: string }

function graph(tasks: Task[], states: Record<string, string>): SVGElement {
  const depth = new Map<string, number>();
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const depthOf = (id: string, seen = new Set<string>()): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(-1, ...(byId.get(id)?.upstream ?? []).map((u) => depthOf(u, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  tasks.forEach((t) => depthOf(t.taskId));
  const layers: string[][] = [];
  for (const t of tasks) (layers[depth.get(t.taskId)!] ??= []).push(t.taskId);
  const W = 150, H = 34, GX = 60, GY = 16;
  const pos = new Map<string, { x: number; y: number }>();
  layers.forEach((ids, i) => ids.forEach((id, j) => pos.set(id, { x: 10 + i * (W + GX), y: 10 + j * (H + GY) })));
  const width = 20 + layers.length * (W + GX);
  const height = 20 + Math.max(1, ...layers.map((l) => l.length)) * (H + GY);
  const edges = tasks.flatMap((t) => t.upstream.map((u) => {
    const a = pos.get(u)!, b = pos.get(t.taskId)!;
    return svg('path', { d: `M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}`, class: 'edge' });
  }));
  const nodes = tasks.map((t) => {
    const p = pos.get(t.taskId)!;
    return svg('g', { class: `node s-${states[t.taskId] ?? 'none'}`, transform: `translate(${p.x},${p.y})` },
      svg('rect', { width: W, height: H, rx: 6 }), svg('text', { x: 10, y: 21 }, t.taskId));
  });
  return svg('svg', { class: 'graph', width, height, viewBox: `0 0 ${width} ${height}` }, ...edges, ...nodes);
}

function triggerForm(dagId: string, params: Record<string, { type: string; default?: unknown; description?: string; enum?: unknown[]; minimum?: number; maximum?: number }>, onDone: (runId: string) => void): HTMLElement {
  const out = h('p', { class: 'action-result' });
  const fields = Object.entries(params).map(([name, spec]) => {
    const id = `param-${name}`;
    let input: HTMLElement;
    if (spec.enum) input = h('select', { id, name }, ...spec.enum.map((v) => h('option', { value: JSON.stringify(v), selected: v === spec.default }, String(v))));
    else if (spec.type === 'boolean') input = h('input', { id, name, type: 'checkbox', checked: spec.default === true });
    else if (spec.type === 'integer' || spec.type === 'number') input = h('input', { id, name, type: 'number', step: spec.type === 'integer' ? '1' : 'any', value: spec.default === undefined ? '' : String(spec.default), min: spec.minimum === undefined ? undefined : String(spec.minimum), max: spec.maximum === undefined ? undefined : String(spec.maximum) });
    else if (spec.type === 'object' || spec.type === 'array') input = h('textarea', { id, name }, spec.default === undefined ? '' : JSON.stringify(spec.default));
    else input = h('input', { id, name, value: spec.default === undefined ? '' : String(spec.default) });
    return h('label', { for: id }, `${name} (${spec.type})`, input, spec.description ? h('small', {}, spec.description) : '');
  });
  const form = h('form', { class: 'trigger' }, h('h2', {}, 'Trigger a run'), ...fields, h('button', { type: 'submit' }, 'Trigger'), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values: Record<string, unknown> = {};
    try {
      for (const [name, spec] of Object.entries(params)) {
        const el = form.querySelector(`[name="${name}"]`) as HTMLInputElement;
        if (spec.enum) values[name] = JSON.parse(el.value);
        else if (spec.type === 'boolean') values[name] = el.checked;
        else if (spec.type === 'integer' || spec.type === 'number') { if (el.value !== '') values[name] = Number(el.value); }
        else if (spec.type === 'object' || spec.type === 'array') { if (el.value.trim()) values[name] = JSON.parse(el.value); }
        else values[name] = el.value;
      }
      const run = await api('POST', `/dags/${encodeURIComponent(dagId)}/runs`, { params: values });
      out.textContent = `Triggered run ${run.id}`;
      out.className = 'action-result';
      onDone(run.id);
    } catch (err) {
      out.textContent = message(err);
      out.className = 'action-result error';
    }
  });
  return form;
}

const LEGEND_STATES = ['pending', 'scheduled', 'queued', 'running', 'deferred', 'up_for_retry', 'success', 'failed', 'upstream_failed', 'skipped'];

/** What the colours of the grid mean. */
function legend(): HTMLElement {
  return h('p', { class: 'legend' }, ...LEGEND_STATES.map((s) => h('span', { class: 'legend-item' }, h('span', { class: `cell s-${s}` }, ''), ` ${s}`)));
}

export const dagView: View = async (root, dagId) => {
  const dag = await api('GET', `/dags/${encodeURIComponent(dagId!)}`);
  const gridBox = h('div', { class: 'grid-box' });
  const graphBox = h('div', { class: 'graph-box' });
  const head = h('div', { class: 'dag-head' });
  root.replaceChildren(
    h('h1', {}, dag.dagId), h('p', { class: 'muted' }, dag.serialized.description ?? '', ` — ${dag.fileloc}`), head,
    h('div', { class: 'columns' }, h('section', {}, h('h2', {}, 'Runs × tasks'), gridBox, legend()), triggerForm(dag.dagId, dag.serialized.params, (id) => { location.hash = `#/runs/${id}`; })),
    h('h2', {}, 'Graph (latest run)'), graphBox);
  const backfills = dag.serialized.schedule.kind === 'none' ? null : backfillSection(dag.dagId, dag.serialized.startDate);
  if (backfills) root.append(backfills.el);
  const refresh = async () => {
    await backfills?.refresh();
    const [d, grid] = await Promise.all([api('GET', `/dags/${encodeURIComponent(dagId!)}`), api('GET', `/dags/${encodeURIComponent(dagId!)}/grid?limit=20`)]);
    head.replaceChildren(d.isPaused ? badge('paused') : badge('active'), ' next run: ', d.nextDagrunAt ? time(d.nextDagrunAt) : 'manual only', ' ',
      action(d.isPaused ? 'Unpause' : 'Pause', () => api('POST', `/dags/${encodeURIComponent(dagId!)}/${d.isPaused ? 'unpause' : 'pause'}`), () => void refresh()));
    const runs = [...grid.runs].reverse();
    gridBox.replaceChildren(table(['task', ...runs.map((r: { id: string }) => `#${r.id}`)], [
      ['run', ...runs.map((r: { id: string; state: string }) => h('a', { href: `#/runs/${r.id}`, class: `cell s-${r.state}`, title: r.state }, ''))],
      ...grid.tasks.map((t: Task) => [t.taskId, ...runs.map((r: { id: string; taskInstances: { taskId: string; state: string }[] }) => {
        const s = r.taskInstances.find((ti) => ti.taskId === t.taskId)?.state ?? 'none';
        return h('a', { href: `#/runs/${r.id}/tasks/${encodeURIComponent(t.taskId)}`, class: `cell s-${s}`, title: `${t.taskId}: ${s}` }, '');
      })]),
    ]));
    const latest = grid.runs[0];
    const states = Object.fromEntries(((latest?.taskInstances ?? []) as { taskId: string; state: string }[]).map((ti) => [ti.taskId, ti.state]));
    graphBox.replaceChildren(graph(grid.tasks, states));
  };
  await refresh();
  return refresh;
};

export const runsView: View = async (root) => {
  const body = h('div');
  root.replaceChildren(h('h1', {}, 'Runs'), body);
  const refresh = async () => {
    const { runs } = await api('GET', '/runs?limit=50');
    body.replaceChildren(table(['run', 'DAG', 'type', 'state', 'logical date', 'started', 'ended'], runs.map((r: any) => [ // eslint-disable-line @typescript-eslint/no-explicit-any
      h('a', { href: `#/runs/${r.id}` }, `#${r.id}`), h('a', { href: `#/dags/${encodeURIComponent(r.dagId)}` }, r.dagId), r.runType, badge(r.state), time(r.logicalDate), time(r.startedAt), time(r.endedAt),
    ])));
  };
  await refresh();
  return refresh;
};

export const runView: View = async (root, runId) => {
  const body = h('div');
  root.replaceChildren(body);
  const refresh = async () => {
    const run = await api('GET', `/runs/${runId}`);
    const active = run.state === 'queued' || run.state === 'running';
    body.replaceChildren(
      h('h1', {}, `Run #${run.id} of `, h('a', { href: `#/dags/${encodeURIComponent(run.dagId)}` }, run.dagId), ' ', badge(run.state)),
      h('p', { class: 'muted' }, `${run.runName} · logical date ${time(run.logicalDate)} · params ${JSON.stringify(run.params)}`),
      run.waitingReason ? h('p', { class: 'waiting', id: 'run-waiting' }, `Waiting: ${run.waitingReason}`) : '',
      h('p', { class: 'run-actions' },
        active ? action('Cancel run', () => api('POST', `/runs/${runId}/cancel`), () => void refresh(), 'danger') : action('Clear all (run again)', () => api('POST', `/runs/${runId}/clear`, {}), () => void refresh()),
        run.state === 'failed' ? action('Clear failed tasks', () => api('POST', `/runs/${runId}/clear`, { onlyFailed: true }), () => void refresh()) : '',
        run.state !== 'success' ? action('Mark run success', () => api('POST', `/runs/${runId}/mark`, { state: 'success' }), () => void refresh()) : '',
        run.state !== 'failed' ? action('Mark run failed', () => api('POST', `/runs/${runId}/mark`, { state: 'failed' }), () => void refresh(), 'danger') : ''),
      table(['task', 'state', 'try', 'started', 'ended', 'waiting for / error', ''], run.tasks.map((t: any) => [ // eslint-disable-line @typescript-eslint/no-explicit-any
        h('a', { href: `#/runs/${runId}/tasks/${encodeURIComponent(t.taskId)}` }, t.taskId), badge(t.state), `${t.tryNumber}/${t.maxTries}`, time(t.startedAt), time(t.endedAt),
        t.waitingReason ? h('span', { class: 'waiting' }, t.waitingReason) : (t.error ?? ''),
        h('button', { class: 'task-actions', onclick: () => openLifecycleDialog(String(runId), t.taskId, () => void refresh()) }, 'Clear / mark…'),
      ])),
    );
  };
  await refresh();
  return refresh;
};

interface Trigger { id: string; state: string; kind: string; description: string; holderId: string | null; holderHostname: string | null; holderPid: number | null; holderCount: number; createdAt: string; timeoutAt: string | null; firedAt: string | null }

/** What a deferred task waits on (or, once it resumed, what it waited on). */
function triggerBox(tr: Trigger, waiting: boolean): HTMLElement {
  const holder = tr.holderId ? `${tr.holderHostname ?? '?'} pid ${tr.holderPid ?? '?'}` : 'no triggerer yet';
  return h('section', { class: 'trigger-box', id: 'trigger' },
    h('h2', {}, waiting ? 'Deferred: waiting on a trigger' : 'Last trigger', ' ', badge(tr.state)),
    table(['kind', 'waits for', 'held by', 'holders so far', 'deferred at', 'times out', waiting ? '' : 'fired'], [[
      tr.kind, tr.description, holder, tr.holderCount, time(tr.createdAt), tr.timeoutAt ? time(tr.timeoutAt) : 'never', waiting ? '' : time(tr.firedAt),
    ]]));
}

export const logView: View = async (root, runId, taskId) => {
  const pre = h('pre', { class: 'log', id: 'log' });
  const status = h('p', { class: 'muted', id: 'log-status' });
  const tries = h('span');
  let tryNumber: number | null = null;
  let offset = 0;
  let shownTry: number | null = null;
  const waitsOn = h('div');
  root.replaceChildren(h('h1', {}, h('a', { href: `#/runs/${runId}` }, `Run #${runId}`), ` › ${taskId}`), waitsOn, tries, status, pre);
  const refresh = async () => {
    const ti = await api('GET', `/runs/${runId}/tasks/${encodeURIComponent(taskId!)}`);
    waitsOn.replaceChildren(ti.trigger ? triggerBox(ti.trigger, ti.state === 'deferred') : '');
    tries.replaceChildren(...ti.attempts.map((a: { tryNumber: number; state: string }) =>
      h('button', { class: `try s-${a.state}`, onclick: () => { tryNumber = a.tryNumber; offset = 0; pre.textContent = ''; void refresh(); } }, `try ${a.tryNumber} (${a.state})`)));
    // Follow: fetch from the last offset until the attempt is done.
    for (let i = 0; i < 20; i++) {
      const q = `offset=${offset}${tryNumber ? `&try=${tryNumber}` : ''}`;
      const log = await api('GET', `/runs/${runId}/tasks/${encodeURIComponent(taskId!)}/logs?${q}`);
      if (log.tryNumber !== shownTry) {
        shownTry = log.tryNumber;
        if (offset !== 0) { offset = 0; pre.textContent = ''; continue; }
      }
      pre.append(log.content);
      offset = log.nextOffset;
      status.textContent = log.tryNumber === null ? `${ti.state}: no attempt yet` : `try ${log.tryNumber} · ${log.state} on ${log.hostname} · ${log.done ? 'complete' : 'following…'}`;
      if (!log.content || log.done) break;
    }
  };
  await refresh();
  return refresh;
};

export const importErrorsView: View = async (root) => {
  const { importErrors } = await api('GET', '/importErrors');
  root.replaceChildren(h('h1', {}, 'Import errors'), importErrors.length === 0 ? h('p', {}, 'Every DAG file loaded.') :
    h('div', {}, ...importErrors.map((e: { fileloc: string; error: string; at: string }) => h('section', { class: 'import-error' }, h('h3', {}, e.fileloc), h('p', { class: 'muted' }, time(e.at)), h('pre', {}, e.error)))));
};

/** A triggerer's "triggers held / capacity", from its own view (details) or the database's. */
function triggersHeld(x: { role: string; triggersHeld: number; details?: { triggersHeld?: number; triggerCapacity?: number } | null }): string {
  if (x.role !== 'triggerer' && x.role !== 'standalone') return '';
  const capacity = x.details?.triggerCapacity;
  if (capacity === undefined) return '';
  return `${x.details?.triggersHeld ?? x.triggersHeld} / ${capacity} trigger(s)`;
}

export const haView: View = async (root) => {
  const health = h('div');
  const comps = h('div');
  const events = h('div');
  root.replaceChildren(h('h1', {}, 'HA dashboard'), health, h('h2', {}, 'Components'), comps, h('h2', {}, 'HA events'), events);
  const refresh = async () => {
    const [c, e, doc] = await Promise.all([
      api('GET', '/components'), api('GET', '/haEvents?limit=50'),
      fetch('/health').then((r) => r.json()).catch(() => ({ status: 'unknown', roles: {} })),
    ]);
    health.replaceChildren(
      h('p', {}, 'Cluster: ', badge(doc.status), ' · database: ', badge(c.database.role), ` PostgreSQL ${c.database.version}, up since ${time(c.database.serverStartedAt)}`),
      h('p', { class: 'roles' }, ...Object.entries(doc.roles as Record<string, { status: string; healthy: number; total: number; reason?: string }>).map(([role, r]) =>
        h('span', { class: 'role', title: r.reason ?? '' }, `${role}: `, badge(r.status), ` ${r.healthy}/${r.total}`))));
    comps.replaceChildren(table(['role', 'host', 'pid', 'state', 'heartbeat age', 'holds', 'started'], c.components.map((x: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const stale = x.state === 'running' && x.heartbeatAgeSec > 5;
      return [x.role, x.hostname, x.pid, badge(stale ? 'unresponsive' : x.state), h('span', { class: stale || x.state === 'dead' ? 'error' : '' }, ago(x.heartbeatAgeSec)),
        [x.role === 'worker' || x.role === 'standalone' ? `${x.runningAttempts} attempt(s)` : '',
          x.role === 'dag-processor' || x.role === 'standalone' ? `${x.fileLeases} file lease(s)` : '',
          triggersHeld(x)].filter(Boolean).join(', '), time(x.startedAt)];
    })));
    events.replaceChildren(h('ol', { class: 'timeline' }, ...e.events.map((ev: any) => // eslint-disable-line @typescript-eslint/no-explicit-any
      h('li', { class: `ev ev-${ev.kind}` }, h('time', {}, time(ev.at)), ' ', h('strong', {}, ev.kind), ` ${ev.role ?? ''} ${ev.hostname ?? ''} `, h('code', {}, JSON.stringify(ev.details))))));
  };
  await refresh();
  return refresh;
};
