// What every request's input must be before a route sees it, checked once for all routes
// (src/core/input-limits.ts has the rules): a JSON body is valid UTF-8 (not silently
// rewritten to U+FFFD), nested at most MAX_JSON_DEPTH levels, and no string or key in it,
// the query string or the path holds a NUL or a lone surrogate. A write route that takes
// no body accepts none or an empty object, like every route with a body rejects unknown
// fields; a route whose body fields are all optional accepts no body at all (also an empty
// body sent with `content-type: application/json`). Each failure is a 400 naming the field.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { MAX_ID_LENGTH } from '../core/dag-graph.js';
import { jsonProblem } from '../core/input-limits.js';
import { badRequest, errorHandler } from './errors.js';

/** Longest raw path parameter: any percent-encoding of the longest id (3 characters per byte). */
export const MAX_PARAM_LENGTH = 3 * MAX_ID_LENGTH;

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** No body, or `{}`: the body schema of a write route that takes none. */
const NO_BODY = { type: 'object', nullable: true, properties: {}, additionalProperties: false } as const;

export function guardInput(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, raw, done) => {
    let text: string;
    try {
      text = utf8.decode(raw as Buffer);
    } catch {
      done(badRequest('body', 'is not valid UTF-8'), undefined);
      return;
    }
    // An empty body is no body: the route's schema says whether it needs one.
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(req, text, (err, value) => {
      const problem = err ? null : jsonProblem(value, 'body');
      done(err ?? (problem ? badRequest(problem.field, problem.message) : null), value);
    });
  });
  app.addHook('preValidation', async (req) => {
    const problem = jsonProblem(req.query, 'querystring') ?? jsonProblem(req.params, 'params');
    if (problem) throw badRequest(problem.field, problem.message);
  });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => WRITE_METHODS.has(m))) return;
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    const body = schema.body as { type?: string; required?: string[]; nullable?: boolean } | undefined;
    if (body === undefined) route.schema = { ...schema, body: NO_BODY };
    else if (body.type === 'object' && !body.required?.length && !body.nullable) route.schema = { ...schema, body: { ...body, nullable: true } };
  });
}

/** The OpenAPI document shows such a route without a request body (it takes none), not with a required empty one. */
export const documentNoBody = ({ schema, url }: { schema: FastifySchema; url: string }) => ({ schema: schema?.body === NO_BODY ? { ...schema, body: undefined } : schema, url });

/** Errors the router answers before any route (a bad percent-encoding, an over-long path parameter), in the API's error format. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const problem = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters (ids have at most ${MAX_ID_LENGTH})`
    : err.code === 'FST_ERR_BAD_URL' ? 'is not valid percent-encoded UTF-8' : null;
  errorHandler(problem ? badRequest('params', problem) : err, request, reply);
}
