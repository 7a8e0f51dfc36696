// Which values are secrets by their name, as Airflow's secrets masker decides: a variable or
// a connection `extra` field whose key contains one of these words (any case). Non-admins
// are shown them as MASK; task logs have them replaced at write time (masker.ts).

export const MASK = '***';

/** Airflow's default sensitive field names (secrets masker, `sensitive_var_conn_names`). */
export const SENSITIVE_NAMES = [
  'access_token', 'api_key', 'apikey', 'authorization', 'passphrase', 'passwd', 'password',
  'private_key', 'secret', 'token', 'keyfile_dict', 'service_account',
] as const;

export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase();
  return SENSITIVE_NAMES.some((n) => k.includes(n));
}

/** The same names as SQL ILIKE patterns (`key ILIKE ANY($1)`), `_` matched literally. */
export function sensitiveLikePatterns(): string[] {
  return SENSITIVE_NAMES.map((n) => `%${n.replaceAll('_', '\\_')}%`);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `value` with every field under a sensitive key, at any depth, replaced by MASK. */
export function maskSensitiveFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSensitiveFields);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSensitiveKey(k) ? MASK : maskSensitiveFields(v)]));
}

/** Every string under a sensitive key of `value`, at any depth (the secrets a task log must not show). */
export function sensitiveStrings(value: unknown, underSensitive = false): string[] {
  if (typeof value === 'string') return underSensitive ? [value] : [];
  if (typeof value === 'number') return underSensitive ? [String(value)] : [];
  if (Array.isArray(value)) return value.flatMap((v) => sensitiveStrings(v, underSensitive));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => sensitiveStrings(v, underSensitive || isSensitiveKey(k)));
}

/**
 * An edit of `sent` by a caller who was shown `stored` masked: a sensitive field sent back as
 * MASK keeps its stored value (the caller never saw it), as a connection's keepPassword does.
 */
export function keepMaskedFields(sent: unknown, stored: unknown): unknown {
  if (Array.isArray(sent)) return sent.map((v, i) => keepMaskedFields(v, Array.isArray(stored) ? stored[i] : undefined));
  if (!isObject(sent)) return sent;
  const before = isObject(stored) ? stored : {};
  return Object.fromEntries(Object.entries(sent).map(([k, v]) => [k, isSensitiveKey(k) && v === MASK && k in before ? before[k] : keepMaskedFields(v, before[k])]));
}
