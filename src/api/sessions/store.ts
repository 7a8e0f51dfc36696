// Browser sessions live outside the API copy (PostgreSQL by default, Redis when
// configured), so that any copy serves any session. A store keeps, under the SHA-256 of
// the session id, the user id and the session's CSRF token, with an idle timeout that
// slides on each use and an absolute one from login, and the user's session epoch at
// login: ending a user's sessions bumps the epoch, so that every older session stops
// counting in either store.
import type { User } from '../../auth/users.js';

export interface LiveSession {
  user: User;
  csrfToken: string;
  /** The absolute expiry (a token made in this session may not outlive it). */
  expiresAt: Date;
}

export interface SessionStore {
  readonly kind: 'postgres' | 'redis';
  create(idHash: string, userId: string, csrfToken: string, maxSec: number, idleSec: number, userEpoch: number): Promise<void>;
  /**
   * The session's user and CSRF token, its idle timeout slid (unless `slide` is false: the
   * database is read-only); null when unknown, idle too long, past its absolute expiry, of a
   * disabled user or of an older epoch.
   */
  touch(idHash: string, idleSec: number, opts?: { slide: boolean }): Promise<LiveSession | null>;
  delete(idHash: string): Promise<void>;
  /** Removes expired sessions (a no-op where expiry is the store's own). */
  sweep(idleSec: number): Promise<void>;
  /** Throws when the store cannot be reached (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}
