// An editor form for pools, variables and connections: the same form creates a row or
// edits one picked from the table (its key is then fixed). The server validates: the
// form has no browser-side constraints, and an error naming a field (`body.slots`,
// `params.name`) is shown under that field and above the form.
import { api, ApiError } from './api.js';
import { h } from './dom.js';

export interface FieldSpec {
  name: string;
  label: string;
  kind?: 'text' | 'number' | 'textarea' | 'password' | 'json' | 'checkbox';
  hint?: string;
}

export type Values = Record<string, string | number | boolean | object | undefined>;

export interface EditorForm {
  el: HTMLElement;
  /** Edit an existing row: fill the fields and fix the key. */
  edit(row: Record<string, unknown>): void;
  isEditing(): boolean;
}

class FieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** `body.extra.region` → `extra`; `params.name` → `name`. */
const inputOf = (field: string | undefined) => field?.split('.')[1];

function readValue(f: FieldSpec, input: HTMLInputElement | HTMLTextAreaElement): Values[string] {
  if (f.kind === 'checkbox') return (input as HTMLInputElement).checked;
  const raw = input.value;
  if (raw.trim() === '') return undefined;
  if (f.kind === 'number') return Number(raw);
  if (f.kind === 'json') {
    try {
      return JSON.parse(raw) as object;
    } catch (err) {
      throw new FieldError(`body.${f.name}`, `body.${f.name}: not valid JSON (${(err as Error).message})`);
    }
  }
  return raw;
}

function shown(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function editorForm(opts: {
  id: string;
  noun: string;
  keyField: string;
  fields: FieldSpec[];
  save(values: Values, editing: boolean): Promise<unknown>;
  onSaved(): void;
}): EditorForm {
  let editing = false;
  const title = h('h2', {});
  const out = h('p', { class: 'action-result form-error', role: 'alert' });
  const inputs = new Map<string, HTMLInputElement | HTMLTextAreaElement>();
  const errors = new Map<string, HTMLElement>();
  const rows = opts.fields.map((f) => {
    const id = `${opts.id}-${f.name}`;
    const input = (f.kind === 'textarea' || f.kind === 'json'
      ? h('textarea', { id, name: f.name, rows: '3' })
      : h('input', { id, name: f.name, type: f.kind === 'checkbox' ? 'checkbox' : f.kind === 'password' ? 'password' : 'text', autocomplete: f.kind === 'password' ? 'new-password' : 'off', inputmode: f.kind === 'number' ? 'numeric' : undefined })) as HTMLInputElement | HTMLTextAreaElement;
    inputs.set(f.name, input);
    const err = h('small', { class: 'field-error error' });
    errors.set(f.name, err);
    return h('label', { for: id, class: f.kind === 'checkbox' ? 'check' : '' }, f.label, input, f.hint ? h('small', { class: 'hint' }, f.hint) : '', err);
  });
  const clearErrors = () => {
    out.textContent = '';
    for (const [name, e] of errors) { e.textContent = ''; inputs.get(name)!.classList.remove('invalid'); }
  };
  const reset = () => {
    editing = false;
    clearErrors();
    for (const input of inputs.values()) {
      if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = false;
      else input.value = '';
      input.readOnly = false;
    }
    title.textContent = `New ${opts.noun}`;
  };
  const form = h('form', { id: opts.id, class: 'editor', novalidate: true }, title, ...rows,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Save'), h('button', { type: 'button', onclick: () => reset() }, 'New')), out) as HTMLFormElement;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    try {
      const values: Values = {};
      for (const f of opts.fields) values[f.name] = readValue(f, inputs.get(f.name)!);
      if (values[opts.keyField] === undefined) throw new FieldError(`params.${opts.keyField}`, `${opts.keyField} is required`);
      await opts.save(values, editing);
      out.textContent = `Saved ${opts.noun} ${String(values[opts.keyField])}`;
      out.className = 'action-result form-error ok';
      opts.onSaved();
    } catch (err) {
      const field = err instanceof FieldError || err instanceof ApiError ? inputOf(err.field) : undefined;
      out.textContent = err instanceof Error ? err.message : String(err);
      out.className = 'action-result form-error error';
      const at = field ? errors.get(field) : undefined;
      if (at && field) {
        at.textContent = out.textContent;
        inputs.get(field)!.classList.add('invalid');
        inputs.get(field)!.focus();
      }
    }
  });
  reset();
  return {
    el: form,
    isEditing: () => editing,
    edit(row) {
      reset();
      editing = true;
      title.textContent = `Edit ${opts.noun} ${shown(row[opts.keyField])}`;
      for (const f of opts.fields) {
        const input = inputs.get(f.name)!;
        if (f.kind === 'password' || f.kind === 'checkbox') continue; // write-only: never shown back
        input.value = shown(row[f.name]);
      }
      inputs.get(opts.keyField)!.readOnly = true;
    },
  };
}

/** A delete button that asks once more on the first click (no browser dialog). */
export function deleteButton(what: string, path: string, after: () => void): HTMLElement {
  const out = h('span', { class: 'action-result' });
  let armed = false;
  const btn = h('button', {
    class: 'danger',
    onclick: async () => {
      if (!armed) {
        armed = true;
        btn.textContent = `Really delete ${what}?`;
        return;
      }
      try {
        await api('DELETE', path);
        after();
      } catch (err) {
        out.textContent = err instanceof Error ? err.message : String(err);
        out.className = 'action-result error';
      }
    },
  }, 'Delete');
  return h('span', {}, btn, out);
}
