// Pages that edit pools, variables and connections. Each shows the table (refreshed
// every few seconds) beside one editor form; "Edit" loads a row into the form. A
// connection's password is write-only: the table says only whether one is set, and an
// edit keeps it unless a new one is typed or "Remove the stored password" is ticked.
import { api } from './api.js';
import { h, table, time } from './dom.js';
import { deleteButton, editorForm, type EditorForm, type Values } from './forms.js';

type View = (root: HTMLElement) => Promise<() => Promise<void>>;
type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const enc = encodeURIComponent;
const editButton = (form: EditorForm, row: Row) => h('button', { class: 'edit', onclick: () => form.edit(row) }, 'Edit');

async function page(root: HTMLElement, title: string, intro: string, form: EditorForm, render: () => Promise<HTMLElement>): Promise<() => Promise<void>> {
  const list = h('section', { class: 'resource-list' });
  root.replaceChildren(h('h1', {}, title), h('p', { class: 'muted' }, intro), h('div', { class: 'columns' }, list, form.el));
  const refresh = async () => {
    const next = await render();
    // Unchanged rows stay as they are: a refresh must not pull a button away from a click in progress.
    if (list.firstElementChild?.outerHTML !== next.outerHTML) list.replaceChildren(next);
  };
  await refresh();
  return refresh;
}

export const poolsView: View = async (root) => {
  let refresh = async () => {};
  const form = editorForm({
    id: 'pool-form', noun: 'pool', keyField: 'name',
    fields: [{ name: 'name', label: 'Name' }, { name: 'slots', label: 'Slots', kind: 'number', hint: 'task instances of this pool that run at once' }, { name: 'description', label: 'Description' }],
    save: (v: Values) => api('PUT', `/pools/${enc(String(v.name))}`, { slots: v.slots, description: v.description ?? '' }),
    onSaved: () => void refresh(),
  });
  refresh = await page(root, 'Pools', 'Pools limit how many task instances run at once across all workers.', form, async () => {
    const { pools } = await api('GET', '/pools');
    return table(['pool', 'slots', 'running', 'queued', 'description', ''], pools.map((p: Row) => [
      p.name, p.slots, p.runningSlots, p.queuedSlots, p.description,
      h('span', { class: 'row-actions' }, editButton(form, p), p.name === 'default_pool' ? '' : deleteButton(p.name, `/pools/${enc(p.name)}`, () => void refresh())),
    ]));
  });
  return refresh;
};

export const variablesView: View = async (root) => {
  let refresh = async () => {};
  const form = editorForm({
    id: 'variable-form', noun: 'variable', keyField: 'key',
    fields: [{ name: 'key', label: 'Key' }, { name: 'value', label: 'Value', kind: 'textarea' }, { name: 'description', label: 'Description' }],
    save: (v: Values) => api('PUT', `/variables/${enc(String(v.key))}`, { value: v.value ?? '', description: v.description ?? '' }),
    onSaved: () => void refresh(),
  });
  refresh = await page(root, 'Variables', 'Key–value settings that DAGs read at run time.', form, async () => {
    const { variables } = await api('GET', '/variables?limit=1000');
    return table(['key', 'value', 'description', 'updated', ''], variables.map((v: Row) => [
      v.key, h('code', { class: 'value' }, v.value.length > 80 ? `${v.value.slice(0, 80)}…` : v.value), v.description, time(v.updatedAt),
      h('span', { class: 'row-actions' }, editButton(form, v), deleteButton(v.key, `/variables/${enc(v.key)}`, () => void refresh())),
    ]));
  });
  return refresh;
};

export const connectionsView: View = async (root) => {
  let refresh = async () => {};
  const form = editorForm({
    id: 'connection-form', noun: 'connection', keyField: 'connId',
    fields: [
      { name: 'connId', label: 'Connection id' }, { name: 'connType', label: 'Type', hint: 'postgres, http, s3, …' },
      { name: 'host', label: 'Host' }, { name: 'port', label: 'Port', kind: 'number' }, { name: 'login', label: 'Login' }, { name: 'schema', label: 'Schema' },
      { name: 'password', label: 'Password', kind: 'password', hint: 'write-only: encrypted at rest and never shown; leave blank to keep the stored one' },
      { name: 'clearPassword', label: 'Remove the stored password', kind: 'checkbox' },
      { name: 'extra', label: 'Extra (JSON object)', kind: 'json' }, { name: 'description', label: 'Description' },
    ],
    save: (v: Values, editing: boolean) => {
      const { connId, password, clearPassword, ...rest } = v;
      const body: Values = { ...rest, description: rest.description ?? '' };
      if (password !== undefined) body.password = password;
      else if (editing && !clearPassword) body.keepPassword = true;
      return api('PUT', `/connections/${enc(String(connId))}`, body);
    },
    onSaved: () => void refresh(),
  });
  refresh = await page(root, 'Connections', 'How tasks reach other systems. Passwords are encrypted with the cluster\'s secret key and never returned.', form, async () => {
    const { connections } = await api('GET', '/connections?limit=1000');
    return table(['connection', 'type', 'host', 'login', 'password', 'extra', ''], connections.map((c: Row) => [
      c.connId, c.connType, `${c.host ?? ''}${c.port ? `:${c.port}` : ''}`, c.login ?? '', c.password ? 'set' : '—', h('code', {}, JSON.stringify(c.extra ?? {})),
      h('span', { class: 'row-actions' }, editButton(form, { connId: c.connId, connType: c.connType, host: c.host, port: c.port, login: c.login, schema: c.schema, extra: c.extra, description: c.description }),
        deleteButton(c.connId, `/connections/${enc(c.connId)}`, () => void refresh())),
    ]));
  });
  return refresh;
};
