// Process logger: human-readable lines in a terminal, JSON lines for log shippers.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export function createLogger(opts: { level: string; format: 'pretty' | 'json'; name?: string }): Logger {
  const base = { level: opts.level, name: opts.name, base: { pid: process.pid } };
  if (opts.format === 'json') return pino(base);
  return pino(base, pretty({ colorize: process.stdout.isTTY, sync: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }));
}
