// A connection URL for logs, errors and `keel config`: the password in its user part is
// replaced, whatever the scheme (postgres://user:pw@…, redis://:pw@…, multi-host lists).
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*:)[^@/]*@/, '//$1***@');
}
