// The environment of the child processes that run DAG authors' code (task runners and their
// shell tasks, custom-trigger polls, DAG file loading): an allow-list, so that Keel's own
// settings (KEEL_DATABASE_URL, KEEL_SECRET_KEY, …) and whatever else the operator's
// environment holds never reach task code. The operator adds names with taskEnvAllow.

/** What any program expects to find: its search path, home, user, locale, time zone, temp folder, proxies and CA files. */
const ALWAYS = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'LANG', 'LANGUAGE', 'LC_*', 'TZ', 'TMPDIR',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
];

/** Whether `name` matches an allow-list entry: an exact name, or a prefix ending in `*`. */
function allowed(name: string, entries: readonly string[]): boolean {
  return entries.some((e) => (e.endsWith('*') ? name.startsWith(e.slice(0, -1)) : name === e));
}

/** The variables of `parent` that user code may see (the fixed list plus `extraAllowed`), then `own` (Keel's variables for the child). */
export function userCodeEnv(parent: NodeJS.ProcessEnv, extraAllowed: readonly string[], own: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && (allowed(name, ALWAYS) || allowed(name, extraAllowed))) env[name] = value;
  }
  return { ...env, ...own };
}
