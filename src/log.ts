// Process logger: human-readable lines in a terminal, JSON lines for log shippers. Errors go
// under `err` (`log.warn({ err }, 'what failed')`), never as their message only: the
// serializer keeps what tells one failure from another.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * pino's error serializer (type, message and stack with their causes, and the error's own
 * properties such as pg's SQLSTATE `code`), without the `client` pg-pool attaches to the
 * errors of idle connections: a whole connection object, hundreds of lines, not the error.
 */
function serializeError(err: Error): unknown {
  // Not an Error (a thrown string, say): pino hands it back unchanged, and it is left alone.
  const out: unknown = pino.stdSerializers.err(err);
  if (out !== err) delete (out as { client?: unknown }).client;
  return out;
}

export function createLogger(opts: { level: string; format: 'pretty' | 'json'; name?: string }): Logger {
  const base = { level: opts.level, name: opts.name, base: { pid: process.pid }, serializers: { err: serializeError } };
  if (opts.format === 'json') return pino(base);
  return pino(base, pretty({ colorize: process.stdout.isTTY, sync: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }));
}
