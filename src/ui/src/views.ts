// The pages of the web UI. Each view renders into a container and returns a refresh
// function that the router calls every few seconds while the page is shown.
import { backfillSection } from './backfill-view.js';
import { api, ApiError, setCsrf } from './api.js';
import { ago, badge, duration, h, table, time } from './dom.js';
import { gantt } from './gantt.js';
import { dagGraph, type GraphTask } from './graph.js';
import { TASK_STATES } from './states.js';
import { formatTime } from './timezone.js';
import { openLifecycleDialog } from './lifecycle-dialog.js';

type View = (root: HTMLElement, ...args: string[]) => Promise<(() => Promise<void>) | void>;
type Row = any; // eslint-disable-line @typescript-eslint/no-explicit-any

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

function nextRun(d: { isPaused: boolean; nextDagrunAt: string | null; schedule: { kind: string } }): Node | string {
  if (d.schedule.kind === 'none' || !d.nextDagrunAt) return 'manual only';
  return d.isPaused ? h('span', {}, 'paused (due ', time(d.nextDagrunAt), ')') : time(d.nextDagrunAt);
}

const scheduleText = (s: { kind: string; expression?: string; seconds?: number }) => (s.kind === 'cron' ? s.expression! : s.kind === 'interval' ? `every ${s.seconds}s` : 'manual');

export const dagsView: View = async (root) => {
  const search = h('input', { type: 'search', id: 'dag-search', placeholder: 'Search DAGs', 'aria-label': 'Search DAGs by id or description' }) as HTMLInputElement;
  const tagSelect = h('select', { id: 'dag-tag', 'aria-label': 'Filter by tag' }, h('option', { value: '' }, 'all tags')) as HTMLSelectElement;
  const body = h('div');
  let data: { dags: Row[]; importErrors: unknown[] } = { dags: [], importErrors: [] };
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const tag = tagSelect.value;
    const shown = data.dags.filter((d) => (!q || d.dagId.toLowerCase().includes(q) || (d.description ?? '').toLowerCase().includes(q)) && (!tag || (d.tags ?? []).includes(tag)));
    body.replaceChildren(
      data.importErrors.length ? h('p', { class: 'warn' }, h('a', { href: '#/import-errors' }, `${data.importErrors.length} DAG file(s) failed to load`)) : '',
      shown.length === 0 ? h('p', { class: 'muted', id: 'no-dags' }, data.dags.length ? 'No DAG matches the search.' : 'No DAGs yet.') : '',
      table(['DAG', 'schedule', 'tags', 'last run', 'recent runs', 'next run', ''], shown.map((d) => {
        const last = d.recentRuns[0] as { id: string; state: string; logicalDate: string } | undefined;
        return [
          h('span', {}, h('a', { href: `#/dags/${encodeURIComponent(d.dagId)}`, class: 'dag-link' }, d.dagId), d.description ? h('small', { class: 'muted block' }, d.description) : ''),
          scheduleText(d.schedule),
          h('span', { class: 'tags' }, ...(d.tags ?? []).map((t: string) => h('button', { class: 'tag', title: `only DAGs tagged ${t}`, onclick: () => { tagSelect.value = t; draw(); } }, t))),
          last ? h('a', { href: `#/runs/${last.id}`, class: 'last-run' }, badge(last.state), ' ', time(last.logicalDate)) : h('span', { class: 'muted' }, 'never run'),
          h('span', { class: 'runs' }, ...d.recentRuns.map((r: { id: string; state: string; logicalDate: string }) => h('a', { href: `#/runs/${r.id}`, title: `${r.state} ${formatTime(r.logicalDate)}`, class: `dot s-${r.state}` }, ''))),
          nextRun(d),
          action(d.isPaused ? 'Unpause' : 'Pause', () => api('POST', `/dags/${encodeURIComponent(d.dagId)}/${d.isPaused ? 'unpause' : 'pause'}`), () => void refresh()),
        ];
      }), { id: 'dag-list' }),
    );
  };
  search.addEventListener('input', draw);
  tagSelect.addEventListener('change', draw);
  root.replaceChildren(h('h1', {}, 'DAGs'), h('p', { class: 'filters' }, search, tagSelect), body);
  const refresh = async () => {
    data = await api('GET', '/dags');
    const tags = [...new Set(data.dags.flatMap((d) => (d.tags ?? []) as string[]))].sort();
    const chosen = tagSelect.value;
    tagSelect.replaceChildren(h('option', { value: '' }, 'all tags'), ...tags.map((t) => h('option', { value: t, selected: t === chosen }, t)));
    draw();
  };
  await refresh();
  return refresh;
};

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

/** What the colours of the grid, graph and Gantt chart mean. */
function legend(): HTMLElement {
  return h('p', { class: 'legend', id: 'legend' }, ...TASK_STATES.map((s) => h('span', { class: 'legend-item' }, h('span', { class: `cell s-${s}` }, ''), ` ${s}`)));
}

const seconds = (from: string | null, to: string | null, now = Date.now()) => (from ? ((to ? Date.parse(to) : now) - Date.parse(from)) / 1000 : null);

interface GridRun { id: string; state: string; logicalDate: string; startedAt: string | null; endedAt: string | null; taskInstances: { taskId: string; state: string; tryNumber: number; startedAt: string | null; endedAt: string | null }[] }

/** Runs × tasks, oldest run on the left: each column is labelled by its logical date under a bar as tall as the run took. */
function grid(tasks: GraphTask[], newestFirst: GridRun[]): HTMLElement {
  const runs = [...newestFirst].reverse();
  const longest = Math.max(1, ...runs.map((r) => seconds(r.startedAt, r.endedAt) ?? 0));
  const BAR_PX = 48;
  const heads = runs.map((r) => {
    const took = seconds(r.startedAt, r.endedAt);
    const bar = h('span', { class: `run-bar s-${r.state}` });
    bar.style.height = `${Math.max(3, Math.round(((took ?? 0) / longest) * BAR_PX))}px`;
    return h('a', { href: `#/runs/${r.id}`, class: 'run-col', title: `run #${r.id} ${r.state} · logical date ${formatTime(r.logicalDate)} · ${took === null ? 'not started' : duration(took)}` },
      h('span', { class: 'bar-area' }, bar), h('span', { class: 'col-date' }, formatTime(r.logicalDate, 'short')));
  });
  return table([h('span', { class: 'muted' }, 'logical date →'), ...heads], tasks.map((t) => [t.taskId, ...runs.map((r) => {
    const ti = r.taskInstances.find((x) => x.taskId === t.taskId);
    const s = ti?.state ?? 'none';
    const took = ti ? seconds(ti.startedAt, ti.endedAt) : null;
    return h('a', { href: `#/runs/${r.id}/tasks/${encodeURIComponent(t.taskId)}`, class: `cell s-${s}`, title: `${t.taskId}: ${s}${took === null ? '' : `, ${duration(took)}`}` }, '');
  })]), { class: 'grid' });
}

export const dagView: View = async (root, dagId) => {
  const dag = await api('GET', `/dags/${encodeURIComponent(dagId!)}`);
  const gridBox = h('div', { class: 'grid-box' });
  const graphBox = h('div', { class: 'graph-box scroll' });
  const head = h('div', { class: 'dag-head' });
  root.replaceChildren(
    h('h1', {}, dag.dagId), h('p', { class: 'muted' }, dag.serialized.description ?? '', ` — ${dag.fileloc}`), head,
    h('div', { class: 'columns' }, h('section', {}, h('h2', {}, 'Runs × tasks'), gridBox, legend()), triggerForm(dag.dagId, dag.serialized.params, (id) => { location.hash = `#/runs/${id}`; })),
    h('h2', {}, 'Graph (latest run)'), graphBox);
  const backfills = dag.serialized.schedule.kind === 'none' ? null : backfillSection(dag.dagId, dag.serialized.startDate);
  if (backfills) root.append(backfills.el);
  const refresh = async () => {
    await backfills?.refresh();
    const [d, g] = await Promise.all([api('GET', `/dags/${encodeURIComponent(dagId!)}`), api('GET', `/dags/${encodeURIComponent(dagId!)}/grid?limit=20`)]);
    head.replaceChildren(d.isPaused ? badge('paused') : badge('active'), ' next run: ', d.nextDagrunAt ? time(d.nextDagrunAt) : 'manual only', ' ',
      action(d.isPaused ? 'Unpause' : 'Pause', () => api('POST', `/dags/${encodeURIComponent(dagId!)}/${d.isPaused ? 'unpause' : 'pause'}`), () => void refresh()));
    gridBox.replaceChildren(grid(g.tasks, g.runs));
    const latest = g.runs[0] as GridRun | undefined;
    const states = Object.fromEntries((latest?.taskInstances ?? []).map((ti) => [ti.taskId, ti.state]));
    graphBox.replaceChildren(dagGraph(g.tasks, states, latest ? (taskId) => `#/runs/${latest.id}/tasks/${encodeURIComponent(taskId)}` : undefined));
  };
  await refresh();
  return refresh;
};

export const runsView: View = async (root) => {
  const body = h('div');
  root.replaceChildren(h('h1', {}, 'Runs'), body);
  const refresh = async () => {
    const { runs } = await api('GET', '/runs?limit=50');
    body.replaceChildren(table(['run', 'DAG', 'type', 'state', 'logical date', 'started', 'ended'], runs.map((r: Row) => [
      h('a', { href: `#/runs/${r.id}` }, `#${r.id}`), h('a', { href: `#/dags/${encodeURIComponent(r.dagId)}` }, r.dagId), r.runType, badge(r.state), time(r.logicalDate), time(r.startedAt), time(r.endedAt),
    ])));
  };
  await refresh();
  return refresh;
};

interface SourceFile { path: string; source: string }

/** The code of the DAG version the run executes, from its stored bundle; the DAG file open. */
async function codeView(runId: string): Promise<HTMLElement> {
  const src = await api('GET', `/runs/${runId}/dagSource`);
  const files = src.files as SourceFile[];
  return h('section', { id: 'code' },
    h('h2', {}, 'Code'),
    h('p', { class: 'muted' }, `version ${String(src.versionHash).slice(0, 12)} of ${src.fileloc ?? src.dagId}`, files.length ? ` · ${files.length} file(s), ${src.sizeBytes} bytes` : ''),
    files.length === 0 ? h('p', { class: 'muted' }, 'This version was stored before DAG bundles existed: no source is kept for it.') : '',
    ...files.map((f) => h('details', { class: 'source', open: f.path === src.entry }, h('summary', {}, f.path), h('pre', { class: 'code' }, h('code', {}, f.source)))));
}

export const runView: View = async (root, runId) => {
  const body = h('div');
  const chart = h('div', { class: 'gantt-box', id: 'gantt' });
  const code = h('div');
  root.replaceChildren(body, h('h2', {}, 'Gantt'), chart, code);
  const refresh = async () => {
    const run = await api('GET', `/runs/${runId}`);
    const active = run.state === 'queued' || run.state === 'running';
    body.replaceChildren(
      h('h1', {}, `Run #${run.id} of `, h('a', { href: `#/dags/${encodeURIComponent(run.dagId)}` }, run.dagId), ' ', badge(run.state)),
      h('p', { class: 'muted' }, `${run.runName} · logical date `, time(run.logicalDate), ` · params ${JSON.stringify(run.params)}`),
      run.waitingReason ? h('p', { class: 'waiting', id: 'run-waiting' }, `Waiting: ${run.waitingReason}`) : '',
      h('p', { class: 'run-actions' },
        active ? action('Cancel run', () => api('POST', `/runs/${runId}/cancel`), () => void refresh(), 'danger') : action('Clear all (run again)', () => api('POST', `/runs/${runId}/clear`, {}), () => void refresh()),
        run.state === 'failed' ? action('Clear failed tasks', () => api('POST', `/runs/${runId}/clear`, { onlyFailed: true }), () => void refresh()) : '',
        run.state !== 'success' ? action('Mark run success', () => api('POST', `/runs/${runId}/mark`, { state: 'success' }), () => void refresh()) : '',
        run.state !== 'failed' ? action('Mark run failed', () => api('POST', `/runs/${runId}/mark`, { state: 'failed' }), () => void refresh(), 'danger') : ''),
      table(['task', 'state', 'try', 'started', 'ended', 'waiting for / error', ''], run.tasks.map((t: Row) => [
        h('a', { href: `#/runs/${runId}/tasks/${encodeURIComponent(t.taskId)}` }, t.taskId), badge(t.state), `${t.tryNumber}/${t.maxTries}`, time(t.startedAt), time(t.endedAt),
        t.waitingReason ? h('span', { class: 'waiting' }, t.waitingReason) : (t.error ?? ''),
        h('button', { class: 'task-actions', onclick: () => openLifecycleDialog(String(runId), t.taskId, () => void refresh()) }, 'Clear / mark…'),
      ]), { id: 'run-tasks' }),
    );
    chart.replaceChildren(gantt(run.tasks, chart.clientWidth || 800));
  };
  await refresh();
  code.replaceChildren(await codeView(runId!));
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
  const summary = h('div');
  const result = h('section', { id: 'result-box' });
  root.replaceChildren(h('h1', {}, h('a', { href: `#/runs/${runId}` }, `Run #${runId}`), ` › ${taskId}`), summary, waitsOn, result, h('h2', {}, 'Log'), tries, status, pre);
  const refresh = async () => {
    const ti = await api('GET', `/runs/${runId}/tasks/${encodeURIComponent(taskId!)}`);
    const took = seconds(ti.startedAt, ti.endedAt);
    summary.replaceChildren(h('p', { class: 'task-summary' }, badge(ti.state), ` try ${ti.tryNumber}/${ti.maxTries} · started `, time(ti.startedAt), ' · ended ', time(ti.endedAt),
      took === null ? '' : ` · ${duration(took)}`, ` · pool ${ti.pool} · queue ${ti.queue}`), ti.error ? h('pre', { class: 'task-error', id: 'task-error' }, ti.error) : '');
    waitsOn.replaceChildren(ti.trigger ? triggerBox(ti.trigger, ti.state === 'deferred') : '');
    // The value the task returned (what downstream tasks read as ctx.upstream), as JSON.
    result.replaceChildren(h('h2', {}, 'Result'), ti.result === null || ti.result === undefined
      ? h('p', { class: 'muted', id: 'result' }, ti.state === 'success' ? 'The task returned nothing.' : 'No result yet.')
      : h('pre', { class: 'code', id: 'result' }, JSON.stringify(ti.result, null, 2)));
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
  const coverage = h('div');
  const comps = h('div');
  const events = h('div');
  root.replaceChildren(h('h1', {}, 'HA dashboard'), health, h('h2', {}, 'Redundancy'), coverage, h('h2', {}, 'Components'), comps, h('h2', {}, 'HA events'), events);
  const refresh = async () => {
    const [c, e, ha, doc] = await Promise.all([
      api('GET', '/components'), api('GET', '/haEvents?limit=50'), api('GET', '/ha'),
      fetch('/health').then((r) => r.json()).catch(() => ({ status: 'unknown', roles: {} })),
    ]);
    health.replaceChildren(
      h('p', {}, 'Cluster: ', badge(doc.status), ' · database: ', badge(c.database.role), ` PostgreSQL ${c.database.version}, up since `, time(c.database.serverStartedAt)),
      h('p', { class: 'roles' }, ...Object.entries(doc.roles as Record<string, { status: string; healthy: number; total: number; reason?: string }>).map(([role, r]) =>
        h('span', { class: 'role', title: r.reason ?? '' }, `${role}: `, badge(r.status), ` ${r.healthy}/${r.total}`))));
    const spof = ha.singlePointsOfFailure as string[];
    coverage.replaceChildren(
      spof.length ? h('p', { class: 'spof', id: 'spof' }, `Single point(s) of failure: ${spof.join(', ')}. One crash there stops that duty until it is back.`)
        : h('p', { class: 'redundant', id: 'spof' }, 'No single point of failure: every role runs copies on more than one node and the database has a replica (keel ha audit).'),
      table(['role', 'alive', 'configured', 'redundancy', ''], [
        ...ha.roles.map((r: Row) => [r.role, String(r.alive), r.configured === null ? 'not set' : String(r.configured),
          h('span', { class: `redundancy r-${r.status}${r.singlePointOfFailure ? ' spof-mark' : ''}` }, r.singlePointOfFailure ? `⚠ ${r.status}` : r.status), r.note]),
        ['database', `${ha.database.streamingReplicas} replica(s)`, '', h('span', { class: `redundancy ${ha.database.singlePointOfFailure ? 'r-single spof-mark' : 'r-redundant'}` }, ha.database.singlePointOfFailure ? '⚠ single' : 'redundant'), ha.database.note],
      ], { id: 'ha-roles' }),
      h('p', { class: 'hint' }, 'Configured copies come from the expectedCopies option of the API copy serving this page, e.g. ', h('code', {}, 'KEEL_EXPECTED_COPIES=scheduler=2,worker=3'), '.'));
    comps.replaceChildren(table(['role', 'host', 'pid', 'state', 'heartbeat age', 'holds', 'started'], c.components.map((x: Row) => {
      const stale = x.state === 'running' && x.heartbeatAgeSec > 5;
      return [x.role, x.hostname, x.pid, badge(stale ? 'unresponsive' : x.state), h('span', { class: stale || x.state === 'dead' ? 'error' : '' }, ago(x.heartbeatAgeSec)),
        [x.role === 'worker' || x.role === 'standalone' ? `${x.runningAttempts} attempt(s)` : '',
          x.role === 'dag-processor' || x.role === 'standalone' ? `${x.fileLeases} file lease(s)` : '',
          triggersHeld(x)].filter(Boolean).join(', '), time(x.startedAt)];
    })));
    events.replaceChildren(h('ol', { class: 'timeline' }, ...e.events.map((ev: Row) =>
      h('li', { class: `ev ev-${ev.kind}` }, h('time', {}, time(ev.at)), ' ', h('strong', {}, ev.kind), ` ${ev.role ?? ''} ${ev.hostname ?? ''} `, h('code', {}, JSON.stringify(ev.details))))));
  };
  await refresh();
  return refresh;
};
