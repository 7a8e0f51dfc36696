// HTTP metrics of an API copy: requests, errors and latency by method, route (the
// pattern, not the URL, to bound cardinality) and status.
import client from 'prom-client';
import type { FastifyInstance } from 'fastify';

export function instrumentHttp(app: FastifyInstance, registry: client.Registry): void {
  const labelNames = ['method', 'route', 'status'];
  const requests = new client.Counter({ name: 'keel_http_requests_total', help: 'HTTP requests served', labelNames, registers: [registry] });
  const errors = new client.Counter({ name: 'keel_http_request_errors_total', help: 'HTTP requests answered with a 4xx or 5xx status', labelNames, registers: [registry] });
  const latency = new client.Histogram({
    name: 'keel_http_request_duration_seconds', help: 'HTTP request latency', labelNames,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    requests.inc(labels);
    if (reply.statusCode >= 400) errors.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });
}
