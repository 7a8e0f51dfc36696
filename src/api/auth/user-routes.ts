// User administration (admins only), as the CLI's `keel users …` does it: list and create
// users, change a role or password, disable or enable a user, end all of a user's
// sessions and tokens. Changes count on every API copy from the next request on.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import { UsageError } from '../../errors.js';
import { conflict, HttpError, notFound } from '../errors.js';
import { object } from '../schemas.js';
import { USER_ROLES } from '../../auth/roles.js';
import { createUser, endUserSessions, LastAdmin, listUsers, MIN_PASSWORD_LENGTH, setUserDisabled, setUserPassword, setUserRole, UnknownUser, USERNAME_PATTERN } from '../../auth/users.js';

const username = { type: 'string', pattern: USERNAME_PATTERN.source } as const;
const password = { type: 'string', minLength: MIN_PASSWORD_LENGTH, maxLength: 1000 } as const;
const role = { type: 'string', enum: [...USER_ROLES] } as const;
const userParams = object({ username }, ['username']);

/** The users module's errors as HTTP errors: 404 unknown user, 409 last admin, 400 naming the body field. */
async function answering<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UnknownUser) throw notFound(err.message);
    if (err instanceof LastAdmin) throw conflict(err.message);
    if (err instanceof UsageError) {
      const field = `body.${/^(\w+):/.exec(err.message)?.[1] ?? 'username'}`;
      throw new HttpError(400, err.message.replace(/^\w+:/, `${field}:`), field);
    }
    throw err;
  }
}

export function userRoutes(app: FastifyInstance, db: Database): void {
  const admin = { minRole: 'admin', noStore: true } as const;
  app.get('/users', { config: admin, schema: { tags: ['users'], summary: 'Users with their role, whether disabled and their live API tokens (admins)' } }, async () => ({ users: await listUsers(db) }));

  app.post('/users', {
    config: admin,
    schema: { tags: ['users'], summary: 'Create a user (admins)', body: object({ username, password, role }, ['username', 'password', 'role']) },
  }, async (req, reply) => {
    const b = req.body as { username: string; password: string; role: string };
    return reply.code(201).send(await answering(() => createUser(db, b.username, b.password, b.role)));
  });

  app.patch('/users/:username', {
    config: admin,
    schema: {
      tags: ['users'], summary: 'Change a user (admins): role, password (ends its browser sessions), disabled (ends its sessions and tokens; it cannot log in)',
      description: 'The last enabled admin can be neither demoted nor disabled (409).',
      params: userParams, body: { ...object({ role, password, disabled: { type: 'boolean' } }), minProperties: 1 },
    },
  }, async (req) => {
    const name = (req.params as { username: string }).username;
    const b = req.body as { role?: string; password?: string; disabled?: boolean };
    return answering(async () => {
      let user = b.role === undefined ? null : await setUserRole(db, name, b.role);
      if (b.disabled !== undefined) user = await setUserDisabled(db, name, b.disabled);
      if (b.password !== undefined) user = await setUserPassword(db, name, b.password);
      return user;
    });
  });

  app.post('/users/:username/endSessions', {
    config: admin,
    schema: { tags: ['users'], summary: 'End every browser session and API token of a user (admins), on every API copy at once', params: userParams },
  }, async (req) => answering(() => endUserSessions(db, (req.params as { username: string }).username)));
}
