// Who may read /metrics, on the API server and on each role's health server alike:
// clients whose address is in `metricsAllow` and, when `metricsToken` is set, that send it
// as a bearer token. Keel checks this itself, so the metrics are safe without a load
// balancer in front (and whatever path encoding reaches the route).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeelOptions } from '../config/options.js';
import { addressMatcher } from '../config/address-list.js';

export type MetricsAccessOptions = Pick<KeelOptions, 'metricsAllow' | 'metricsToken'>;

const digest = (text: string) => createHash('sha256').update(text).digest();

/** An onRequest hook for the /metrics route: 403 outside `metricsAllow`, 401 without the token. */
export function metricsAccess(options: MetricsAccessOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const allowed = addressMatcher(options.metricsAllow);
  const expected = options.metricsToken === undefined ? null : digest(options.metricsToken);
  return async (req, reply) => {
    if (!allowed(req.ip)) {
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `metrics are not served to ${req.ip}: add its network to metricsAllow (KEEL_METRICS_ALLOW)` });
    }
    if (!expected) return undefined;
    const header = req.headers.authorization;
    const sent = header?.startsWith('Bearer ') ? digest(header.slice(7).trim()) : null;
    if (!sent || !timingSafeEqual(sent, expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ statusCode: 401, error: 'Unauthorized', message: 'metrics need Authorization: Bearer <metricsToken>' });
    }
    return undefined;
  };
}
