// Opaque random tokens (API tokens, session ids, CSRF tokens). Only their SHA-256 is
// stored, so a copy of the database does not let anyone log in.
import { createHash, randomBytes } from 'node:crypto';

export function newToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const API_TOKEN_PREFIX = 'keel_';
