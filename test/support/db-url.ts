// Database names and URLs shared by the test runner and the tests.
export const TEMPLATE_DB = 'keel_test_template';

export { withDatabase } from '../../src/db/url.js';

/**
 * Through PgBouncer (KEEL_TEST_POOLED_URL set by CI's second pass), tests get pooled URLs
 * for pools and the direct server for what needs a session: this maps a URL on the pooled
 * host:port to the same database on the direct one (KEEL_TEST_ADMIN_URL). Otherwise the
 * URL itself.
 */
export function directUrlFor(url: string): string {
  const pooled = process.env.KEEL_TEST_POOLED_URL;
  const direct = process.env.KEEL_TEST_ADMIN_URL;
  if (!pooled || !direct || !URL.canParse(url)) return url; // a multi-host URL is never the pooled one
  const u = new URL(url);
  const p = new URL(pooled);
  if (u.host !== p.host) return url;
  const d = new URL(direct);
  u.host = d.host;
  u.username = d.username;
  u.password = d.password;
  return u.toString();
}

/** The URL tests give Keel's pools for a database: through PgBouncer when CI provides one. */
export function pooledUrlFor(directUrl: string): string {
  const pooled = process.env.KEEL_TEST_POOLED_URL;
  if (!pooled) return directUrl;
  const u = new URL(pooled);
  u.pathname = new URL(directUrl).pathname;
  return u.toString();
}
