// What a new API token may be, decided from what was asked and who asks (pure, so it is
// unit-tested): never a higher role than the credential that makes it, never longer than
// the maximum lifetime, and never outliving the token or browser session that makes it.
import { rankOf, type UserRole } from './roles.js';

export interface TokenLimits {
  /** Lifetime of a token made without one. */
  defaultSec: number;
  maxSec: number;
}

export interface TokenMaker {
  role: UserRole;
  /** When the maker's own token or session expires (null: never, or the CLI). */
  expiresAt: Date | null;
}

export type TokenGrant =
  | { ok: true; lifetimeSec: number; role: UserRole }
  /** `field`: the API's name of the input at fault. */
  | { ok: false; status: 400 | 403; field: 'body.role' | 'body.lifetimeSec'; message: string };

/** Shortest lifetime of a token (the API's `lifetimeSec` minimum). */
export const MIN_TOKEN_LIFETIME_SEC = 60;

export function grantToken(asked: { lifetimeSec?: number | null; role?: UserRole | null }, maker: TokenMaker, limits: TokenLimits, now = new Date()): TokenGrant {
  const role = asked.role ?? maker.role;
  if (rankOf(role) > rankOf(maker.role)) {
    return { ok: false, status: 403, field: 'body.role', message: `a token cannot rank above the credential that makes it (${maker.role})` };
  }
  const leftSec = maker.expiresAt ? Math.floor((maker.expiresAt.getTime() - now.getTime()) / 1000) : Infinity;
  if (leftSec < MIN_TOKEN_LIFETIME_SEC) {
    return { ok: false, status: 400, field: 'body.lifetimeSec', message: `the token or session that makes it expires in ${Math.max(0, leftSec)} s, too soon for a token of at least ${MIN_TOKEN_LIFETIME_SEC} s; log in again` };
  }
  if (asked.lifetimeSec != null) {
    if (asked.lifetimeSec > limits.maxSec) return { ok: false, status: 400, field: 'body.lifetimeSec', message: `at most ${limits.maxSec} s (apiTokenMaxLifetimeSec)` };
    if (asked.lifetimeSec > leftSec) return { ok: false, status: 400, field: 'body.lifetimeSec', message: `at most ${leftSec} s: a token cannot outlive the token or session that makes it` };
    return { ok: true, lifetimeSec: asked.lifetimeSec, role };
  }
  return { ok: true, lifetimeSec: Math.min(limits.defaultSec, limits.maxSec, leftSec), role };
}
