// What a shell task finds in its environment besides Keel's fixed variables: the variables
// its DAG declares (`env`, checked when the DAG is imported) and its upstream results. Pure:
// the runner resolves the declarations through its worker and writes the values.
import { CONNECTION_FIELDS, type ConnectionField, type SecretRequest, type TaskConnection } from './types.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SHAPES = `a string, { variable: "key", default?: "…" } or { connection: "id", field?: ${CONNECTION_FIELDS.map((f) => `"${f}"`).join(' | ')} }`;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function valueProblem(value: unknown): string | null {
  if (typeof value === 'string') return null;
  if (!isObject(value)) return `expected ${SHAPES}, got ${JSON.stringify(value) ?? String(value)}`;
  const source = 'variable' in value ? 'variable' : 'connection' in value ? 'connection' : null;
  if (source === null || ('variable' in value && 'connection' in value)) return `expected ${SHAPES}, got ${JSON.stringify(value)}`;
  const allowed = source === 'variable' ? ['variable', 'default'] : ['connection', 'field'];
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length) return `unknown key ${unknown.map((k) => `"${k}"`).join(', ')} beside "${source}"; a ${source} takes ${allowed.map((k) => `"${k}"`).join(' and ')}`;
  if (typeof value[source] !== 'string' || value[source] === '') return `${source} must be the non-empty ${source === 'variable' ? 'key of a variable' : 'id of a connection'}, got ${JSON.stringify(value[source])}`;
  if (source === 'variable' && value.default !== undefined && typeof value.default !== 'string') return `default must be a string, got ${JSON.stringify(value.default)}`;
  if (source === 'connection' && value.field !== undefined && !CONNECTION_FIELDS.includes(value.field as ConnectionField)) {
    return `field must be one of ${CONNECTION_FIELDS.join(', ')}, got ${JSON.stringify(value.field)}`;
  }
  return null;
}

/** Every problem with a shell task's `env` declaration, each naming its field (`env.NAME`); empty when valid. */
export function shellEnvProblems(env: unknown): string[] {
  if (!isObject(env)) return [`env must be an object of NAME: value, each value ${SHAPES}; got ${JSON.stringify(env) ?? String(env)}`];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    const field = `env.${name}`;
    if (!ENV_NAME.test(name)) problems.push(`${field}: not an environment variable name; use letters, digits and "_", not starting with a digit`);
    else if (name.toUpperCase().startsWith('KEEL_')) problems.push(`${field}: names starting with KEEL_ are Keel's own (KEEL_PARAM_*, KEEL_UPSTREAM_*, …); choose another name`);
    const problem = valueProblem(value);
    if (problem) problems.push(`${field}: ${problem}`);
  }
  return problems;
}

/** The variable holding the path of a JSON file of all upstream results, by task id. */
export const UPSTREAM_FILE_ENV = 'KEEL_UPSTREAM_FILE';

/** The variable holding an upstream task's result in a shell task's environment: KEEL_UPSTREAM_ and the id in upper case, other characters as "_". */
export function upstreamEnvName(taskId: string): string {
  return `KEEL_UPSTREAM_${taskId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Upstream ids of a shell task that would share one environment variable ("a-b" and "a.b"), or take the file's. */
export function upstreamEnvProblems(upstream: readonly string[]): string[] {
  const byName = new Map<string, string>([[UPSTREAM_FILE_ENV, '']]);
  const problems: string[] = [];
  for (const id of new Set(upstream)) {
    const name = upstreamEnvName(id);
    const other = byName.get(name);
    if (other === '') problems.push(`upstream task "${id}" would be ${name}, which holds the path of the upstream results file; rename the task`);
    else if (other !== undefined) problems.push(`upstream tasks "${other}" and "${id}" would both be ${name} in this shell task's environment; rename one`);
    else byName.set(name, id);
  }
  return problems;
}

/** An upstream result as an environment value: a string as it is, anything else as JSON. */
export function upstreamEnvValue(result: unknown): string {
  return typeof result === 'string' ? result : JSON.stringify(result ?? null);
}

/**
 * A connection as a URI, as Airflow writes one: type://login:password@host:port/schema?extra,
 * each part percent-encoded; "_" in the type becomes "-" (not allowed in a URI scheme);
 * extra fields that are not strings are JSON.
 */
export function connectionUri(c: TaskConnection): string {
  const enc = encodeURIComponent;
  const auth = c.login !== null || c.password !== null ? `${enc(c.login ?? '')}${c.password !== null ? `:${enc(c.password)}` : ''}@` : '';
  const query = Object.entries(c.extra).map(([k, v]) => `${enc(k)}=${enc(typeof v === 'string' ? v : JSON.stringify(v))}`).join('&');
  return `${c.connType.replaceAll('_', '-')}://${auth}${c.host ?? ''}${c.port !== null ? `:${c.port}` : ''}${c.schema ? `/${enc(c.schema)}` : ''}${query ? `?${query}` : ''}`;
}

/** A runner's secret request, when well formed (task code can send anything), else null. */
export function secretRequestOf(value: unknown): SecretRequest | null {
  const r = value as Partial<Record<string, unknown>> | null | undefined;
  if (r?.kind === 'variable' && typeof r.key === 'string') return { kind: 'variable', key: r.key };
  if (r?.kind === 'connection' && typeof r.connId === 'string') return { kind: 'connection', connId: r.connId };
  return null;
}

/** The environment variable `keel dags test` reads a variable or connection from: the prefix and the name in upper case, other characters as "_". */
export function localSecretEnvName(prefix: 'KEEL_VAR_' | 'KEEL_CONN_', name: string): string {
  return `${prefix}${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** A connection from its URI (the inverse of connectionUri), or why the text is not one. */
export function parseConnectionUri(connId: string, text: string): TaskConnection | string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `not a connection URI (type://login:password@host:port/schema?extra), got "${text.replace(/:[^:@/]*@/, ':***@')}"`;
  }
  const dec = decodeURIComponent;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of u.searchParams) extra[k] = v;
  return {
    connId, connType: u.protocol.slice(0, -1).replaceAll('-', '_'), host: u.hostname ? dec(u.hostname) : null,
    port: u.port ? Number(u.port) : null, login: u.username ? dec(u.username) : null, password: u.password ? dec(u.password) : null,
    schema: u.pathname.length > 1 ? dec(u.pathname.slice(1)) : null, extra,
  };
}

/** One field of a connection as an environment value; an unset field is empty, `extra` is JSON. */
export function connectionField(c: TaskConnection, field: ConnectionField): string {
  switch (field) {
    case 'uri': return connectionUri(c);
    case 'type': return c.connType;
    case 'port': return c.port === null ? '' : String(c.port);
    case 'extra': return JSON.stringify(c.extra);
    default: return c[field] ?? '';
  }
}
