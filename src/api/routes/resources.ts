// Pools, variables and connections. Connection passwords are encrypted before they
// reach the database and are never returned: reads say only whether one is set.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import { badRequest, notFound } from '../errors.js';
import { sql } from '../../db/sql.js';
import type { SecretBox } from '../secrets.js';
import { object } from '../schemas.js';

const name = { type: 'string', minLength: 1, maxLength: 250, pattern: '^[A-Za-z0-9_.-]+$' } as const;
const toConnection = ({ has_password, ...r }: Record<string, unknown>) => ({ ...r, password: has_password ? '***' : null });

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
  app.get('/variables', { schema: { tags: ['variables'], summary: 'Variables' } }, async () => ({ variables: (await db.query(sql('api/variables'))).rows }));
  app.get('/variables/:key', { schema: { tags: ['variables'], summary: 'One variable', params: keyParams } }, async (req) => {
    const row = (await db.query(sql('api/variable'), [(req.params as { key: string }).key])).rows[0];
    if (!row) throw notFound(`no variable "${(req.params as { key: string }).key}"`);
    return row;
  });
  app.put('/variables/:key', {
    schema: { tags: ['variables'], summary: 'Create or replace a variable', params: keyParams, body: object({ value: { type: 'string', maxLength: 1048576 }, description: { type: 'string', maxLength: 1000 } }, ['value']) },
  }, async (req) => {
    const body = req.body as { value: string; description?: string };
    return (await db.query(sql('api/variable_upsert'), [(req.params as { key: string }).key, body.value, body.description ?? ''])).rows[0];
  });
  app.delete('/variables/:key', { schema: { tags: ['variables'], summary: 'Delete a variable', params: keyParams } }, async (req, reply) => {
    if (!(await db.query(sql('api/variable_delete'), [(req.params as { key: string }).key])).rowCount) throw notFound(`no variable "${(req.params as { key: string }).key}"`);
    return reply.code(204).send();
  });

  const connParams = object({ connId: name }, ['connId']);
  app.get('/connections', { schema: { tags: ['connections'], summary: 'Connections (passwords never returned)' } }, async () => ({ connections: (await db.query(sql('api/connections'))).rows.map(toConnection) }));
  app.get('/connections/:connId', { schema: { tags: ['connections'], summary: 'One connection (password never returned)', params: connParams } }, async (req) => {
    const row = (await db.query(sql('api/connection'), [(req.params as { connId: string }).connId])).rows[0];
    if (!row) throw notFound(`no connection "${(req.params as { connId: string }).connId}"`);
    return toConnection(row);
  });
  app.put('/connections/:connId', {
    schema: {
      tags: ['connections'], summary: 'Create or replace a connection; the password is encrypted at rest (needs secretKey)', params: connParams,
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
    const encrypted = b.password !== undefined && secrets ? secrets.encrypt(b.password) : null;
    const row = (await db.query(sql('api/connection_upsert'), [(req.params as { connId: string }).connId, b.connType, b.host ?? null, b.port ?? null, b.login ?? null, b.schema ?? null, b.extra ?? {}, encrypted, b.description ?? '', b.keepPassword === true])).rows[0];
    return toConnection(row);
  });
  app.delete('/connections/:connId', { schema: { tags: ['connections'], summary: 'Delete a connection', params: connParams } }, async (req, reply) => {
    if (!(await db.query(sql('api/connection_delete'), [(req.params as { connId: string }).connId])).rowCount) throw notFound(`no connection "${(req.params as { connId: string }).connId}"`);
    return reply.code(204).send();
  });
}
