// Database names and URLs shared by the test runner and the tests.
export const TEMPLATE_DB = 'keel_test_template';

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
