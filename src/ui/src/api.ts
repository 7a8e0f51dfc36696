// The UI's only way to the server: JSON over fetch with the session cookie, the CSRF
// token on writes, and a banner when the API (this copy, or the database behind it) fails,
// so that a dead copy or scheduler shows as a failure instead of breaking the page.
let csrf: string | null = null;

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

const banner = () => document.getElementById('banner')!;

export function showBanner(text: string | null, kind: 'error' | 'info' = 'error'): void {
  const b = banner();
  b.hidden = text === null;
  b.textContent = text ?? '';
  b.className = kind;
}

export function setCsrf(token: string | null): void {
  csrf = token;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    showBanner('The API server cannot be reached; retrying. (If several copies run behind a load balancer, it moves you to a live one.)');
    throw new ApiError(0, 'API server unreachable');
  }
  if (res.status >= 500) showBanner(`The API answered ${res.status}: ${(await res.clone().json().catch(() => ({ message: res.statusText }))).message}; retrying.`);
  else showBanner(null);
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && !path.startsWith('/auth/login')) {
    location.hash = '#/login';
    throw new ApiError(401, data.message ?? 'log in');
  }
  if (!res.ok) throw new ApiError(res.status, data.message ?? res.statusText, data.field);
  return data as T;
}
