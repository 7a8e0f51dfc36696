// The optional health server of a long-running process: liveness (its loop turned
// recently), readiness (database reachable and registered) and Prometheus metrics (for
// the addresses and token of metricsAllow and metricsToken, as on the API server).
// Readiness turns 503 (draining) at SIGTERM, while the role still drains.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import type { KeelMetrics } from './metrics.js';
import { metricsAccess, type MetricsAccessOptions } from './metrics-access.js';
import type { ComponentSession } from '../ha/session.js';

/** A loop that has not turned for this long is not live. */
export const LIVENESS_MAX_AGE_MS = 30_000;

export async function startHealthServer(args: { host: string; port: number; session: ComponentSession; metrics: KeelMetrics; access: MetricsAccessOptions; log: Logger }): Promise<FastifyInstance> {
  const { session, metrics } = args;
  const app = Fastify({ logger: false });
  app.get('/health/live', async (_req, reply) => {
    const at = session.lastLoopAt;
    const ageMs = at ? Date.now() - at.getTime() : null;
    const live = ageMs !== null && ageMs < LIVENESS_MAX_AGE_MS;
    return reply.code(live ? 200 : 503).send({ status: live ? 'live' : 'stalled', role: session.role, component: session.id, loopAgeMs: ageMs });
  });
  app.get('/health/ready', async (_req, reply) => {
    const ready = session.ready;
    const status = ready ? 'ready' : session.draining ? 'draining' : 'not_ready';
    return reply.code(ready ? 200 : 503).send({ status, role: session.role, component: session.id });
  });
  app.get('/metrics', { onRequest: metricsAccess(args.access) }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  await app.listen({ host: args.host, port: args.port });
  const address = app.server.address();
  args.log.info({ address }, 'health server listening');
  return app;
}
