// `keel api` (and the API part of `keel standalone`): build the server and listen.
import type { KeelOptions } from '../config/options.js';
import type { Database } from '../db/database.js';
import type { KeelMetrics } from '../observability/metrics.js';
import type { Logger } from '../log.js';
import { secretKeyOf } from '../secrets/secret-key.js';
import { sql } from '../db/sql.js';
import { buildApiServer } from './server.js';

export interface RunningApi {
  port: number;
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
  const host = options.apiHost.includes(':') ? `[${options.apiHost}]` : options.apiHost;
  const users = (await db.query<{ n: number }>(sql('auth/user_count'))).rows[0]?.n ?? 0;
  log.info({ url: `http://${host}:${port}/` }, `web UI and REST API at http://${host}:${port}/ (API: /api/v1, OpenAPI: /api/v1/openapi.json, health: /health, metrics: /metrics)`);
  if (users === 0) {
    log.warn('no users yet: create the first admin with `npm run keel -- users create --username admin --role admin --password-stdin` (type a password of at least 8 characters, then Ctrl-D; or --password-file <file>), then log in at the URL above');
  }
  return {
    port,
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
