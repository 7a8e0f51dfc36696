// The clear / mark dialog of a task instance (Airflow's "Clear" and "Mark state" dialogs):
// the operator picks the action and the selection (downstream, upstream, recursive, only
// failed), sees the task instances it will change (a dry run of the same request), and
// confirms; the confirmation carries what was shown, so rows that moved meanwhile make the
// API refuse the action (409) instead of changing something unseen.
import { api, ApiError } from './api.js';
import { badge, h, table } from './dom.js';

interface Planned { taskId: string; state: string; attemptId: string | null; to: string }
type Action = 'clear' | 'success' | 'failed';

function request(action: Action, taskId: string, o: { downstream: boolean; upstream: boolean; recursive: boolean; onlyFailed: boolean }) {
  const selection = { taskIds: [taskId], downstream: o.downstream, upstream: o.upstream, recursive: o.recursive };
  return action === 'clear'
    ? { path: 'clear', body: { ...selection, onlyFailed: o.onlyFailed } }
    : { path: 'mark', body: { ...selection, state: action } };
}

/** Opens the dialog for one task instance of a run; `done` runs after a confirmed change. */
export function openLifecycleDialog(runId: string, taskId: string, done: () => void): void {
  const checkbox = (name: string, label: string, checked: boolean) => {
    const input = h('input', { type: 'checkbox', name, checked }) as HTMLInputElement;
    return { input, el: h('label', {}, input, ` ${label}`) };
  };
  const actionSelect = h('select', { name: 'action' },
    h('option', { value: 'clear' }, 'Clear (run again)'), h('option', { value: 'success' }, 'Mark success'), h('option', { value: 'failed' }, 'Mark failed')) as HTMLSelectElement;
  const downstream = checkbox('downstream', 'Downstream', true);
  const upstream = checkbox('upstream', 'Upstream', false);
  const recursive = checkbox('recursive', 'Recursive', false);
  const onlyFailed = checkbox('onlyFailed', 'Only failed', false);
  const preview = h('div', { class: 'plan', id: 'lifecycle-plan' });
  const status = h('p', { class: 'action-result', id: 'lifecycle-status' });
  const confirm = h('button', { class: 'danger', id: 'lifecycle-confirm', disabled: true }, 'Confirm') as HTMLButtonElement;
  const close = h('button', { id: 'lifecycle-close' }, 'Cancel');
  const dialog = h('dialog', { class: 'lifecycle', id: 'lifecycle-dialog' },
    h('h2', {}, `Task ${taskId} of run #${runId}`),
    h('p', { class: 'options' }, actionSelect, downstream.el, upstream.el, recursive.el, onlyFailed.el),
    preview, status, h('p', { class: 'buttons' }, confirm, close)) as HTMLDialogElement;

  let planned: Planned[] = [];
  const current = () => request(actionSelect.value as Action, taskId, {
    downstream: downstream.input.checked, upstream: upstream.input.checked, recursive: recursive.input.checked, onlyFailed: onlyFailed.input.checked,
  });
  const showPlan = async () => {
    confirm.disabled = true;
    onlyFailed.el.hidden = actionSelect.value !== 'clear';
    const { path, body } = current();
    try {
      const r = await api<{ tasks: Planned[]; runState: { from: string; to: string } }>('POST', `/runs/${runId}/${path}`, { ...body, dryRun: true });
      planned = r.tasks;
      status.textContent = '';
      preview.replaceChildren(planned.length === 0
        ? h('p', { class: 'muted' }, 'Nothing to change: every selected task instance is already in that state.')
        : h('div', {},
          h('p', {}, `${planned.length} task instance${planned.length === 1 ? '' : 's'} will change; the run goes from ${r.runState.from} to ${r.runState.to}:`),
          table(['task', 'now', 'becomes'], planned.map((p) => [p.taskId, badge(p.state), badge(p.to)]))));
      confirm.disabled = planned.length === 0;
    } catch (err) {
      planned = [];
      preview.replaceChildren();
      status.textContent = err instanceof ApiError ? err.message : String(err);
      status.className = 'action-result error';
    }
  };
  for (const c of [actionSelect, downstream.input, upstream.input, recursive.input, onlyFailed.input]) c.addEventListener('change', () => void showPlan());
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    const { path, body } = current();
    try {
      await api('POST', `/runs/${runId}/${path}`, { ...body, expected: planned.map((p) => ({ taskId: p.taskId, state: p.state, attemptId: p.attemptId })) });
      dialog.close();
      done();
    } catch (err) {
      status.textContent = `${err instanceof ApiError ? err.message : String(err)} — the list above is refreshed; confirm again if it is still what you want`;
      status.className = 'action-result error';
      await showPlan();
    }
  });
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  void showPlan();
}
