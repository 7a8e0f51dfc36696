// Pools, variables and connections. Connection passwords are encrypted before they
// reach the database and are never returned: reads say only whether one is set.
// Non-admins see the values of sensitive-looking variables and connection extra fields
// masked (secrets/sensitive.ts); a mask they send back in an edit keeps the stored value.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_ID_LENGTH } from '../../core/dag-graph.js';
import type { Database } from '../../db/database.js';
import { sql } from '../../db/sql.js';
import { badRequest, notFound } from '../errors.js';
import type { SecretBox } from '../../secrets/secret-box.js';
import { MASK, isSensitiveKey, keepMaskedFields, maskSensitiveFields } from '../../secrets/sensitive.js';
import { limit, object, offset } from '../schemas.js';

const name = { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '^[A-Za-z0-9_.-]+$' } as const;
type Row = Record<string, unknown>;
/** Whether the caller sees secrets in full: admins only. */
const seesSecrets = (req: FastifyRequest) => req.user?.role === 'admin';
const toConnection = ({ has_password, ...r }: Row, full: boolean) => ({ ...r, extra: full ? r.extra : maskSensitiveFields(r.extra), password: has_password ? MASK : null });
const toVariable = (r: Row, full: boolean) => (full || !isSensitiveKey(String(r.key)) ? r : { ...r, value: MASK });
const MASK_NOTE = `Non-admins see the values of variables and connection extra fields whose key contains a sensitive word (password, secret, token, api_key, …) as "${MASK}"; "${MASK}" sent back by a non-admin keeps the stored value.`;
const page = object({ limit: limit(1000, 100), offset });
/** Rows of a page query without their `total` column, and the total. */
const paged = (rows: Row[]) => ({ rows: rows.map(({ total: _t, ...r }) => r), total: (rows[0]?.total as number | undefined) ?? 0 });

export function resourceRoutes(app: FastifyInstance, db: Database, secrets: SecretBox | null): void {
  app.get('/pools', { schema: { tags: ['pools'], summary: 'Pools with their slots in use' } }, async () => ({ pools: (await db.query(sql('api/pools'))).rows }));
  app.put('/pools/:name', {
    schema: { tags: ['pools'], summary: 'Create a pool or set its slots', params: object({ name }, ['name']), body: object({ slots: { type: 'integer', minimum: 0, maximum: 1000000 }, description: { type: 'string', maxLength: 1000 } }, ['slots']) },
  }, async (req) => {
    const body = req.body as { slots: number; description?: string };
    return (await db.query(sql('api/pool_upsert'), [(req.params as { name: string }).name, body.slots, body.description ?? null])).rows[0];
  });
  app.delete('/pools/:name', { schema: { tags: ['pools'], summary: 'Delete a pool (not default_pool)', params: object({ name }, ['name']) } }, async (req, reply) => {
    const { name: pool } = req.params as { name: string };
    if (pool === 'default_pool') throw badRequest('params.name', 'default_pool cannot be deleted');
    if (!(await db.query(sql('api/pool_delete'), [pool])).rowCount) throw notFound(`no pool "${pool}"`);
    return reply.code(204).send();
  });

  const keyParams = object({ key: name }, ['key']);
  app.get('/variables', { schema: { tags: ['variables'], summary: 'Variables by key, with pagination', description: MASK_NOTE, querystring: page } }, async (req) => {
    const f = req.query as { limit: number; offset: number };
    const { rows, total } = paged((await db.query(sql('api/variables'), [f.limit, f.offset])).rows);
    return { variables: rows.map((r) => toVariable(r, seesSecrets(req))), total, limit: f.limit, offset: f.offset };
  });
  app.get('/variables/:key', { schema: { tags: ['variables'], summary: 'One variable', description: MASK_NOTE, params: keyParams } }, async (req) => {
    const row = (await db.query(sql('api/variable'), [(req.params as { key: string }).key])).rows[0];
    if (!row) throw notFound(`no variable "${(req.params as { key: string }).key}"`);
    return toVariable(row, seesSecrets(req));
  });
  app.put('/variables/:key', {
    schema: { tags: ['variables'], summary: 'Create or replace a variable', description: MASK_NOTE, params: keyParams, body: object({ value: { type: 'string', maxLength: 1048576 }, description: { type: 'string', maxLength: 1000 } }, ['value']) },
  }, async (req) => {
    const { key } = req.params as { key: string };
    const body = req.body as { value: string; description?: string };
    const full = seesSecrets(req);
    const kept = !full && body.value === MASK && isSensitiveKey(key) ? (await db.query<{ value: string }>(sql('api/variable'), [key])).rows[0]?.value : undefined;
    return toVariable((await db.query(sql('api/variable_upsert'), [key, kept ?? body.value, body.description ?? ''])).rows[0], full);
  });
  app.delete('/variables/:key', { schema: { tags: ['variables'], summary: 'Delete a variable', params: keyParams } }, async (req, reply) => {
    if (!(await db.query(sql('api/variable_delete'), [(req.params as { key: string }).key])).rowCount) throw notFound(`no variable "${(req.params as { key: string }).key}"`);
    return reply.code(204).send();
  });

  const connParams = object({ connId: name }, ['connId']);
  app.get('/connections', { schema: { tags: ['connections'], summary: 'Connections by id, with pagination (passwords never returned)', description: MASK_NOTE, querystring: page } }, async (req) => {
    const f = req.query as { limit: number; offset: number };
    const { rows, total } = paged((await db.query(sql('api/connections'), [f.limit, f.offset])).rows);
    return { connections: rows.map((r) => toConnection(r, seesSecrets(req))), total, limit: f.limit, offset: f.offset };
  });
  app.get('/connections/:connId', { schema: { tags: ['connections'], summary: 'One connection (password never returned)', description: MASK_NOTE, params: connParams } }, async (req) => {
    const row = (await db.query(sql('api/connection'), [(req.params as { connId: string }).connId])).rows[0];
    if (!row) throw notFound(`no connection "${(req.params as { connId: string }).connId}"`);
    return toConnection(row, seesSecrets(req));
  });
  app.put('/connections/:connId', {
    schema: {
      tags: ['connections'], summary: 'Create or replace a connection; the password is encrypted at rest (needs secretKey)', description: MASK_NOTE, params: connParams,
      body: object({
        connType: { type: 'string', minLength: 1, maxLength: 100 }, host: { type: 'string', maxLength: 500 }, port: { type: 'integer', minimum: 1, maximum: 65535 },
        login: { type: 'string', maxLength: 500 }, schema: { type: 'string', maxLength: 500 }, password: { type: 'string', maxLength: 10000 },
        extra: { type: 'object', additionalProperties: true }, description: { type: 'string', maxLength: 1000 },
        keepPassword: { type: 'boolean', description: 'keep the stored password (the password is write-only, so an edit need not send it again)' },
      }, ['connType']),
    },
  }, async (req) => {
    const b = req.body as { connType: string; host?: string; port?: number; login?: string; schema?: string; password?: string; extra?: Record<string, unknown>; description?: string; keepPassword?: boolean };
    if (b.keepPassword && b.password !== undefined) throw badRequest('body.keepPassword', 'send either a new password or keepPassword, not both');
    if (b.password !== undefined && !secrets) throw badRequest('body.password', 'connection passwords need a secret key to be encrypted at rest: set KEEL_SECRET_KEY (secretKey) on every API copy');
    const { connId } = req.params as { connId: string };
    const full = seesSecrets(req);
    const stored = !full && b.extra ? (await db.query<{ extra: unknown }>(sql('api/connection'), [connId])).rows[0] : undefined;
    const extra = stored ? keepMaskedFields(b.extra, stored.extra) : b.extra ?? {};
    const encrypted = b.password !== undefined && secrets ? secrets.encrypt(b.password) : null;
    const row = (await db.query(sql('api/connection_upsert'), [connId, b.connType, b.host ?? null, b.port ?? null, b.login ?? null, b.schema ?? null, extra, encrypted, b.description ?? '', b.keepPassword === true])).rows[0];
    return toConnection(row, full);
  });
  app.delete('/connections/:connId', { schema: { tags: ['connections'], summary: 'Delete a connection', params: connParams } }, async (req, reply) => {
    if (!(await db.query(sql('api/connection_delete'), [(req.params as { connId: string }).connId])).rowCount) throw notFound(`no connection "${(req.params as { connId: string }).connId}"`);
    return reply.code(204).send();
  });
}
