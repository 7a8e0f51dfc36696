// The API server of one `keel api` copy: REST API under /api/v1 (OpenAPI document at
// /api/v1/openapi.json), probes (/health/live, /health/ready), the detailed health
// document (/health, /api/v1/health: details only for logged-in or loopback callers),
// Prometheus metrics (/metrics, for the addresses and token in metricsAllow and
// metricsToken) and the web UI.
// It keeps no state of its own: users, sessions, rate-limit counters and everything
// else live in PostgreSQL (browser sessions there or in Redis), so any copy serves any request.
import fastifyCookie from '@fastify/cookie';
import fastifyEtag from '@fastify/etag';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { KeelOptions } from '../config/options.js';
import type { AuditOptions } from '../ha/audit.js';
import { DatabaseWritability } from './writability.js';
import { isLoopback } from '../config/address-list.js';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../log.js';
import { KEEL_VERSION } from '../version.js';
import { registerAuthentication } from './auth/authenticate.js';
import { authRoutes } from './auth/routes.js';
import { userRoutes } from './auth/user-routes.js';
import { errorHandler } from './errors.js';
import { httpStatusOf, publicHealth, readHealth } from './health.js';
import { documentNoBody, frameworkErrors, guardInput, MAX_PARAM_LENGTH } from './input-guard.js';
import { instrumentHttp } from '../observability/http-metrics.js';
import { metricsAccess } from '../observability/metrics-access.js';
import { postgresRateLimitStore } from './rate-limit-store.js';
import { backfillRoutes } from './routes/backfills.js';
import { dagRoutes } from './routes/dags.js';
import { haRoutes } from './routes/ha.js';
import { resourceRoutes } from './routes/resources.js';
import { runRoutes } from './routes/runs.js';
import { triggerRoutes } from './routes/triggers.js';
import { SecretBox } from '../secrets/secret-box.js';
import { openSessionStore } from './sessions/open.js';
import type { SessionStore } from './sessions/store.js';
import { registerApiShape } from './response-case.js';
import { registerUi } from './ui.js';

export const API_PREFIX = '/api/v1';
/** Swagger UI: the OpenAPI document, browsable and callable with the browser's session. */
export const API_DOCS_PATH = `${API_PREFIX}/docs`;
/**
 * The REST API's own version (the OpenAPI document's info.version), apart from Keel's:
 * 2.0.0 made every field camelCase, every time ISO 8601 UTC with `Z`, and named a run's
 * text id `runName` (`runId` is the numeric id in /runs/{runId}, wherever it appears).
 */
export const API_VERSION = '2.0.0';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SWEEP_EVERY_MS = 10 * 60_000;
const READY_TIMEOUT_MS = 2000;

export type ApiOptions = Pick<KeelOptions, 'apiTrustProxy' | 'apiCookieSecure' | 'apiSessionIdleSec' | 'apiSessionMaxSec' | 'apiLoginRateLimit' | 'apiLoginBackoffAfter' | 'apiLoginBackoffMaxSec'
  | 'apiTokenDefaultLifetimeSec' | 'apiTokenMaxLifetimeSec' | 'apiWriteRateLimit' | 'secretKey' | 'componentDeadAfterSec' | 'apiSessionStore' | 'redisUrl' | 'dbConnectRetrySec' | 'metricsAllow' | 'metricsToken'
  | 'workerLostAfterSec' | 'dbOutageGraceSec'> & AuditOptions;

export interface ApiServer {
  app: FastifyInstance;
  /** Readiness turns false first, so that load balancers stop sending before the copy stops. */
  drain(): void;
  close(): Promise<void>;
}

export async function buildApiServer(db: Database, options: ApiOptions, deps: { log: Logger; registry: Registry }): Promise<ApiServer> {
  const sessions = await openSessionStore(db, options, deps.log);
  try {
    return await buildOn(db, sessions, options, deps);
  } catch (err) {
    await sessions.close();
    throw err;
  }
}

async function buildOn(db: Database, sessions: SessionStore, options: ApiOptions, deps: { log: Logger; registry: Registry }): Promise<ApiServer> {
  const app = Fastify({
    loggerInstance: deps.log.child({ role: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: options.apiTrustProxy,
    bodyLimit: 2 * 1024 * 1024,
    // Path parameters as long as the ids they name (src/core/dag-graph.ts), so that the
    // schemas answer a too-long id with a 400 naming it; longer ones get frameworkErrors.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
  });
  guardInput(app);
  // Query strings and path parameters are text, so they are coerced to the schema's types;
  // bodies are JSON and must have the right types as sent (a number is not a string).
  const ajvFor = (coerceTypes: false | 'array') => addFormats.default(new Ajv({ removeAdditional: false, useDefaults: true, coerceTypes, allErrors: false, strict: false }));
  const bodyAjv = ajvFor(false);
  const textAjv = ajvFor('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  let draining = false;
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}; see ${API_PREFIX}/openapi.json` }));
  instrumentHttp(app, deps.registry);

  // Writes are rate-limited per user (or address) with counters shared by all copies.
  // This hook must come before the rate-limit plugin's own onRoute hook.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.url.startsWith(API_PREFIX) || !methods.some((m) => WRITE_METHODS.has(m)) || route.config?.rateLimit !== undefined) return;
    route.config = { ...route.config, rateLimit: { max: options.apiWriteRateLimit, timeWindow: 60_000, hook: 'preHandler', keyGenerator: (req) => `write:${req.user ? `user:${req.user.id}` : req.ip}` } };
  });
  await app.register(fastifyRateLimit, { global: false, store: postgresRateLimitStore(db), skipOnError: false });
  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { directives: { 'default-src': ["'self'"], 'script-src': ["'self'"], 'style-src': ["'self'"], 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'"], 'upgrade-insecure-requests': null } },
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Keel REST API', version: API_VERSION,
        description: `DAGs, runs, task instances, triggers and external events, pools, variables, connections and HA state of a Keel cluster (Keel ${KEEL_VERSION}). `
          + 'Every field name is camelCase and every time is ISO 8601 in UTC with a Z (since API 2.0.0); user data (params, results, payloads, extra fields) is returned as stored. '
          + 'A run is named by its numeric id (`id`; `runId` elsewhere) and has a text id unique within its DAG (`runName`).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'keel_session' } } },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: documentNoBody,
  });

  // Swagger UI's own page needs inline styles and scripts; the rest of the API keeps the strict policy.
  await app.register(fastifySwaggerUi, { routePrefix: API_DOCS_PATH, staticCSP: true, uiConfig: { deepLinking: true, withCredentials: true } });

  const secrets = options.secretKey ? new SecretBox(options.secretKey) : null;
  const health = async () => readHealth(db, options.componentDeadAfterSec);
  const writability = new DatabaseWritability(db, deps.log);
  const authentication = { sessionIdleSec: options.apiSessionIdleSec, writability };

  app.get('/health/live', { config: { public: true }, schema: { tags: ['health'], summary: 'Liveness: the process answers' } }, async () => ({ status: 'live' }));
  app.get('/health/ready', { config: { public: true }, schema: { tags: ['health'], summary: 'Readiness: this copy reaches the database and its session store (503 otherwise; 404 while draining on SIGTERM)' } }, async (_req, reply) => {
    // 404, not 503: HAProxy's `http-check disable-on-404` then stops sending new requests
    // without cutting the ones in flight (a 503 would mark the copy down and cut them).
    if (draining) return reply.code(404).send({ status: 'draining' });
    const within = async (what: string, probe: () => Promise<unknown>) => {
      try {
        await Promise.race([probe(), new Promise((_r, reject) => setTimeout(() => reject(new Error(`no answer in ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS).unref())]);
        return null;
      } catch (err) {
        return `${what}: ${(err as Error).message}`;
      }
    };
    const failed = (await Promise.all([within('database', () => db.query(sql('db/ping'))), within(`session store (${sessions.kind})`, () => sessions.check())])).filter(Boolean);
    return failed.length ? reply.code(503).send({ status: 'not_ready', reason: failed.join('; ') }) : { status: 'ready' };
  });
  const detailed = async (req: FastifyRequest, reply: FastifyReply) => {
    const doc = await health();
    return reply.code(httpStatusOf(doc.status)).header('cache-control', 'no-store').send(req.user || isLoopback(req.ip) ? doc : publicHealth(doc));
  };
  const metrics = metricsAccess(options);
  // Its own scope with authentication, so that /health knows a logged-in caller.
  await app.register(async (ops) => {
    registerAuthentication(ops, db, sessions, authentication);
    registerApiShape(ops);
    ops.get('/health', { config: { public: true }, schema: { tags: ['health'], summary: 'Detailed health: database and every component (to logged-in or loopback callers; others get the statuses only); 200 healthy or degraded, 503 unhealthy' } }, detailed);
    ops.get('/metrics', { config: { public: true }, onRequest: metrics, schema: { hide: true } }, async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));
  });

  await app.register(async (api) => {
    await api.register(fastifyEtag);
    registerAuthentication(api, db, sessions, authentication);
    registerApiShape(api);
    api.get('/openapi.json', { config: { public: true, keepShape: true }, schema: { hide: true } }, async () => app.swagger());
    registerApiShape(api);
    api.get('/health', { config: { public: true }, schema: { tags: ['health'], summary: 'Detailed health (as /health)' } }, detailed);
    authRoutes(api, db, sessions, {
      sessionMaxSec: options.apiSessionMaxSec, sessionIdleSec: options.apiSessionIdleSec, cookieSecure: options.apiCookieSecure, loginRateLimit: options.apiLoginRateLimit,
      loginBackoff: { after: options.apiLoginBackoffAfter, maxSec: options.apiLoginBackoffMaxSec },
      tokenLimits: { defaultSec: options.apiTokenDefaultLifetimeSec, maxSec: options.apiTokenMaxLifetimeSec },
    });
    userRoutes(api, db);
    dagRoutes(api, db);
    runRoutes(api, db, { workerLostAfterSec: options.workerLostAfterSec, dbOutageGraceSec: options.dbOutageGraceSec }, secrets);
    backfillRoutes(api, db, { workerLostAfterSec: options.workerLostAfterSec, dbOutageGraceSec: options.dbOutageGraceSec });
    resourceRoutes(api, db, secrets);
    haRoutes(api, db, options, writability);
    triggerRoutes(api, db);
  }, { prefix: API_PREFIX });
  await registerUi(app);

  const sweep = setInterval(() => {
    sessions.sweep(options.apiSessionIdleSec).catch((err) => app.log.debug({ err }, 'could not delete ended browser sessions; the next sweep tries again'));
    db.query(sql('api/rate_limit_sweep')).catch((err) => app.log.debug({ err }, 'could not delete old rate-limit windows; the next sweep tries again'));
    db.query(sql('auth/login_attempts_sweep')).catch((err) => app.log.debug({ err }, 'could not delete old login attempts; the next sweep tries again'));
  }, SWEEP_EVERY_MS);
  sweep.unref();
  return {
    app,
    drain: () => { draining = true; },
    close: async () => {
      draining = true;
      clearInterval(sweep);
      await app.close();
      await sessions.close();
    },
  };
}
