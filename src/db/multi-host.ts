// Multi-host PostgreSQL URLs, as libpq reads them: `postgres://u:p@h1:5432,h2:5433/db?
// target_session_attrs=read-write`. node-postgres (pg 8) connects to one host only and
// ignores target_session_attrs, so Keel parses the list itself and chooses the host
// (src/db/connect.ts). Pure: parsing and the "is this server acceptable" rule.
import { UsageError } from '../errors.js';

export type TargetSessionAttrs = 'any' | 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby';
const ATTRS: readonly TargetSessionAttrs[] = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'];

export interface HostPort {
  host: string;
  port: number;
}

export interface ParsedDatabaseUrl {
  hosts: HostPort[];
  targetSessionAttrs: TargetSessionAttrs;
  /** The same URL naming one host, without target_session_attrs (what node-postgres reads). */
  urlFor(host: HostPort): string;
}

/** A bad database URL is bad input: exit code 2, like any other bad option. */
export class DatabaseUrlError extends UsageError {}

const SHAPE = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i;

function splitHosts(list: string, option: string): HostPort[] {
  const hosts: HostPort[] = [];
  for (const part of list.split(',')) {
    const m = /^(\[[^\]]+\]|[^:[\]]*)(?::(\d*))?$/.exec(part);
    if (!m || !m[1]) throw new DatabaseUrlError(`${option}: bad host "${part}" in the host list "${list}"; write host:port pairs separated by commas, e.g. postgres://user:password@db1:5432,db2:5432/keel`);
    const port = m[2] ? Number(m[2]) : 5432;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DatabaseUrlError(`${option}: bad port in "${part}"; ports are 1-65535`);
    hosts.push({ host: decodeURIComponent(m[1].replace(/^\[(.*)\]$/, '$1')), port });
  }
  return hosts;
}

/**
 * Parses a PostgreSQL URL that may name several hosts. `option` names the setting in
 * errors (e.g. "KEEL_DATABASE_URL (databaseUrl)").
 */
export function parseDatabaseUrl(url: string, option = 'database URL'): ParsedDatabaseUrl {
  const m = SHAPE.exec(url.trim());
  if (!m) throw new DatabaseUrlError(`${option}: "${redact(url)}" is not a PostgreSQL URL; expected postgres://user:password@host:port[,host2:port2]/database[?target_session_attrs=read-write]`);
  const [, scheme, userinfo, hostList, path, query, fragment] = m;
  if (!hostList) throw new DatabaseUrlError(`${option}: "${redact(url)}" names no host; expected postgres://user:password@host:port/database`);
  const hosts = splitHosts(hostList, option);
  const params = new URLSearchParams((query ?? '').slice(1));
  const raw = params.get('target_session_attrs') ?? 'any';
  if (!(ATTRS as readonly string[]).includes(raw)) throw new DatabaseUrlError(`${option}: target_session_attrs=${raw} is not one of ${ATTRS.join(', ')}`);
  params.delete('target_session_attrs');
  const rest = params.toString();
  const hostText = (h: HostPort) => `${h.host.includes(':') ? `[${h.host}]` : encodeURIComponent(h.host)}:${h.port}`;
  return {
    hosts,
    targetSessionAttrs: raw as TargetSessionAttrs,
    urlFor: (h) => `${scheme}${userinfo !== undefined ? `${userinfo}@` : ''}${hostText(h)}${path ?? ''}${rest ? `?${rest}` : ''}${fragment ?? ''}`,
  };
}

export interface ServerState {
  inRecovery: boolean;
  readOnly: boolean;
}

/** Whether a server in this state satisfies target_session_attrs (prefer-standby takes anything, standbys first). */
export function acceptable(attrs: TargetSessionAttrs, s: ServerState, pass: 'preferred' | 'fallback' = 'preferred'): boolean {
  switch (attrs) {
    case 'any': return true;
    case 'read-write': return !s.readOnly;
    case 'read-only': return s.readOnly;
    case 'primary': return !s.inRecovery;
    case 'standby': return s.inRecovery;
    case 'prefer-standby': return pass === 'fallback' || s.inRecovery;
  }
}

/** Whether connections need a server check at all (one host, attrs any: connect as node-postgres does). */
export function needsCheck(p: Pick<ParsedDatabaseUrl, 'hosts' | 'targetSessionAttrs'>): boolean {
  return p.hosts.length > 1 || p.targetSessionAttrs !== 'any';
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
