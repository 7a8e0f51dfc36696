// ctx.variables and ctx.connections, and the resolution of a shell task's declared env. The
// runner has no database: each value is asked of its worker (`fetch`), which answers for the
// attempt the runner runs and masks what it hands out in that attempt's log.
import { connectionField, connectionUri } from '../core/task-env.js';
import type { SecretRequest, ShellEnvValue, TaskConnection } from '../core/types.js';
import type { Connection, TaskConnections, TaskVariables } from './context.js';

/** Asks the worker; null: no such variable or connection. Rejects with the worker's reason when it cannot answer. */
export type FetchSecret = (request: SecretRequest) => Promise<string | TaskConnection | null>;

const hasDefault = (o: unknown): o is { default: unknown } => typeof o === 'object' && o !== null && 'default' in o;

function checkedId(what: string, id: unknown): string {
  if (typeof id !== 'string' || id === '') throw new TypeError(`${what}: expected a non-empty string, got ${JSON.stringify(id) ?? String(id)}`);
  return id;
}

const missingVariable = (key: string, fix: string) =>
  new Error(`variable "${key}" does not exist: create it (web UI, or PUT /api/v1/variables/${encodeURIComponent(key)}) or give a default: ${fix}`);
const missingConnection = (connId: string) =>
  new Error(`connection "${connId}" does not exist: create it (web UI, or PUT /api/v1/connections/${encodeURIComponent(connId)})`);

export function secretAccessors(fetch: FetchSecret): { variables: TaskVariables; connections: TaskConnections } {
  const variable = async (key: unknown) => (await fetch({ kind: 'variable', key: checkedId('ctx.variables: key', key) })) as string | null;
  const variables = {
    async get(key: string, options?: { default: unknown }): Promise<unknown> {
      const value = await variable(key);
      if (value !== null) return value;
      if (hasDefault(options)) return options.default;
      throw missingVariable(key, `ctx.variables.get("${key}", { default: … })`);
    },
    async getJson(key: string, options?: { default: unknown }): Promise<unknown> {
      const value = await variable(key);
      if (value === null) {
        if (hasDefault(options)) return options.default;
        throw missingVariable(key, `ctx.variables.getJson("${key}", { default: … })`);
      }
      try {
        return JSON.parse(value);
      } catch {
        // Not JSON.parse's message: it quotes the start of the value, which may be a secret.
        throw new Error(`variable "${key}" is not valid JSON; read it as a string with ctx.variables.get("${key}")`);
      }
    },
  } as TaskVariables;
  const connections: TaskConnections = {
    async get(connId: string): Promise<Connection> {
      const c = (await fetch({ kind: 'connection', connId: checkedId('ctx.connections: connId', connId) })) as TaskConnection | null;
      if (!c) throw missingConnection(connId);
      return { ...c, uri: connectionUri(c) };
    },
  };
  return { variables, connections };
}

/** A shell task's declared env (validated when its DAG was imported) with every value fetched; an error names the variable (`env.NAME`). */
export async function resolveShellEnv(env: Record<string, ShellEnvValue>, fetch: FetchSecret): Promise<Record<string, string>> {
  const resolved = await Promise.all(Object.entries(env).map(async ([name, decl]): Promise<[string, string]> => {
    if (typeof decl === 'string') return [name, decl];
    const ask = (r: SecretRequest) => fetch(r).catch((err: Error) => {
      throw new Error(`env.${name}: ${err.message}`, { cause: err });
    });
    if ('variable' in decl) {
      const value = (await ask({ kind: 'variable', key: decl.variable })) as string | null;
      if (value !== null) return [name, value];
      if (decl.default !== undefined) return [name, decl.default];
      throw new Error(`env.${name}: ${missingVariable(decl.variable, `{ variable: "${decl.variable}", default: "…" }`).message}`);
    }
    const c = (await ask({ kind: 'connection', connId: decl.connection })) as TaskConnection | null;
    if (!c) throw new Error(`env.${name}: ${missingConnection(decl.connection).message}`);
    return [name, connectionField(c, decl.field ?? 'uri')];
  }));
  return Object.fromEntries(resolved);
}
