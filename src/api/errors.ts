// HTTP errors of the API. Every error body is `{ statusCode, error, message, field? }`;
// `field` names the offending input (`body.params.rows`, `querystring.limit`, …).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { UsageError } from '../errors.js';

/** read_only_sql_transaction */
const READ_ONLY_SQLSTATE = '25006';
export const READ_ONLY_MESSAGE = 'the database is read-only (a standby, or default_transaction_read_only is on): Keel serves reads and refuses writes until it is writable again; retry later';

export class HttpError extends Error {
  readonly code = 'KEEL_HTTP_ERROR';
  constructor(readonly statusCode: number, message: string, readonly field?: string) {
    super(message);
  }
}

export const badRequest = (field: string, message: string) => new HttpError(400, `${field}: ${message}`, field);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string, field?: string) => new HttpError(409, message, field);
/** A write while the database is read-only (src/api/writability.ts). */
export const readOnlyError = () => new HttpError(503, READ_ONLY_MESSAGE);

const NAMES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** `body/params/rows` → `body.params.rows`; a missing property is named too. */
function fieldOf(err: FastifyError): string | undefined {
  const v = err.validation?.[0];
  if (!v) return undefined;
  const path = v.instancePath.split('/').filter(Boolean);
  const missing = (v.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ?? (v.params as { additionalProperty?: string }).additionalProperty;
  if (missing) path.push(missing);
  return [err.validationContext ?? 'body', ...path].join('.');
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let status = err.statusCode ?? 500;
  let message = err.message;
  let field: string | undefined;
  if (err instanceof HttpError) field = err.field;
  else if (err.validation) {
    status = 400;
    field = fieldOf(err);
    const v = err.validation[0];
    const extra = v?.keyword === 'additionalProperties' ? ' (unknown field)' : v?.keyword === 'required' ? ' is required' : ` ${v?.message ?? 'is invalid'}`;
    message = field ? `${field}${extra}` : err.message;
  } else if (err instanceof UsageError) status = 400;
  else if ((err as { code?: string }).code === READ_ONLY_SQLSTATE) {
    // A write that met a read-only database after its retries (src/api/writability.ts had not seen it yet).
    status = 503;
    message = READ_ONLY_MESSAGE;
  }
  else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') status = 415;
  else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.name === 'SyntaxError') {
    status = 400;
    field = 'body';
    message = `body: not valid JSON (${err.message})`;
  }
  if (status >= 500) {
    request.log.error({ err }, 'request failed');
    if (status === 500) message = 'internal error; see the API server log';
  }
  return reply.code(status).send({ statusCode: status, error: NAMES[status] ?? 'Error', message, ...(field ? { field } : {}) });
}
