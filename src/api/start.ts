// `keel api` (and the API part of `keel standalone`): build the server and listen.
import type { KeelOptions } from '../config/options.js';
import type { Database } from '../db/database.js';
import type { KeelMetrics } from '../observability/metrics.js';
import type { Logger } from '../log.js';
import { secretKeyOf } from '../secrets/secret-key.js';
import { sql } from '../db/sql.js';
import { buildApiServer } from './server.js';
import { webUrl } from '../config/web-url.js';

export interface RunningApi {
  port: number;
  readonly drains: string;
  stop(): Promise<void>;
}

/**
 * `drainSec`: on stop, readiness answers 503 this long while requests are still served,
 * so that a load balancer takes the copy out before it closes (`keel api`: apiDrainSec).
 */
export async function startApi(db: Database, options: KeelOptions, metrics: KeelMetrics, log: Logger, drainSec = options.apiDrainSec): Promise<RunningApi> {
  const server = await buildApiServer(db, { ...options, secretKey: secretKeyOf(options) }, { log, registry: metrics.registry });
  await server.app.listen({ host: options.apiHost, port: options.apiPort });
  const address = server.app.server.address();
  const port = address && typeof address === 'object' ? address.port : options.apiPort;
  const users = (await db.query<{ n: number }>(sql('auth/user_count'))).rows[0]?.n ?? 0;
  const url = webUrl(options, port);
  log.info({ url }, `web UI and REST API at ${url} (API: /api/v1, OpenAPI: /api/v1/openapi.json, health: /health, metrics: /metrics)`);
  if (users === 0) {
    log.warn('no users yet: create the first admin with `npm run keel -- users create --username admin --role admin --password-stdin` (type a password of at least 8 characters, then Ctrl-D; or --password-file <file>), then log in at the URL above');
  }
  return {
    port,
    drains: drainSec > 0 ? `the API: ${drainSec} s of drain (apiDrainSec), then the server closes` : 'the API server',
    stop: async () => {
      if (drainSec > 0) {
        server.drain();
        log.info({ drainSec }, `draining: /health/ready answers 503 and requests are still served for ${drainSec} s, then the server closes`);
        await new Promise((r) => setTimeout(r, drainSec * 1000));
      }
      await server.close();
    },
  };
}
