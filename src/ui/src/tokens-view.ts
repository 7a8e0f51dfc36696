// API tokens: the caller's (an admin sees everyone's), a form that makes a new one and
// shows it once, and revoke buttons. A revoked token is refused by every API copy from
// the next request on.
import { api } from './api.js';
import { h, table, time } from './dom.js';
import { deleteButton } from './forms.js';

type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export async function tokensView(root: HTMLElement): Promise<() => Promise<void>> {
  const me = await api('GET', '/auth/me');
  const all = me.user.role === 'admin';
  const list = h('section');
  const out = h('div', { class: 'new-token' });
  const form = h('form', { id: 'token-form', class: 'editor', novalidate: true },
    h('h2', {}, 'New API token'),
    h('label', { for: 'token-name' }, 'Name', h('input', { id: 'token-name', name: 'name', autocomplete: 'off' }), h('small', { class: 'hint' }, 'what it is for: ci, a script, …')),
    h('label', { for: 'token-days' }, 'Expires after (days)', h('input', { id: 'token-days', name: 'days', inputmode: 'numeric' }), h('small', { class: 'hint' }, 'blank: the default; never past the end of this login session')),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Create')), out) as HTMLFormElement;
  const refresh = async () => {
    const { tokens } = await api('GET', `/auth/tokens${all ? '?all=true' : ''}`);
    list.replaceChildren(tokens.length === 0 ? h('p', {}, 'No API tokens.') : table(['id', ...(all ? ['user'] : []), 'name', 'created', 'expires', 'last used', ''], tokens.map((t: Row) => [
      t.id, ...(all ? [t.username] : []), t.name, time(t.createdAt), t.expired ? h('span', { class: 'error' }, 'expired ', time(t.expiresAt)) : t.expiresAt ? time(t.expiresAt) : 'never', time(t.lastUsedAt),
      deleteButton(`token ${t.id}`, `/auth/tokens/${t.id}`, () => void refresh()),
    ])));
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const days = String(data.get('days') ?? '').trim();
    try {
      const made = await api('POST', '/auth/tokens', { name: String(data.get('name') ?? ''), ...(days ? { lifetimeSec: Math.round(Number(days) * 86400) } : {}) });
      out.replaceChildren(h('p', {}, 'Copy it now: it is not shown again.'), h('code', { id: 'new-token' }, made.token));
      out.className = 'new-token';
      form.reset();
      await refresh();
    } catch (err) {
      out.replaceChildren(h('p', { class: 'error form-error' }, err instanceof Error ? err.message : String(err)));
    }
  });
  root.replaceChildren(h('h1', {}, 'API tokens'),
    h('p', { class: 'muted' }, 'Send a token as ', h('code', {}, 'Authorization: Bearer <token>'), '. Only its hash is stored; revoking it stops it on every API copy at once.', all ? ' As an admin you see every user\'s tokens.' : ''),
    h('div', { class: 'columns' }, list, form));
  await refresh();
  return refresh;
}
