// The address to print for the web UI and REST API: the configured host and port, with a
// wildcard listen address (0.0.0.0, ::) shown as the loopback address a browser on this host can open.
import type { KeelOptions } from './options.js';

export function webUrl(options: Pick<KeelOptions, 'apiHost'>, port: number): string {
  const host = options.apiHost === '0.0.0.0' ? '127.0.0.1' : options.apiHost === '::' ? '[::1]' : options.apiHost;
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}/`;
}
