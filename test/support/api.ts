// A small HTTP client for API tests: JSON in and out, a cookie jar of one session, and
// the CSRF token that cookie-authenticated writes need.
import { after, before } from 'node:test';
import { createUser } from '../../src/auth/users.js';
import type { OptionName } from '../../src/config/options.js';
import type { RoleName } from '../../src/runtime/roles.js';
import { startRoles, testOptions, waitForDag, type TestCluster } from './cluster.js';
import { freshDatabase, type TestDatabase } from './db.js';
export interface ApiResponse<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  status: number;
  body: T;
  headers: Headers;
}

export class ApiClient {
  cookie: string | null = null;
  csrf: string | null = null;
  token: string | null = null;

  constructor(public base: string) {}

  async req<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf && method !== 'GET' && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    if (this.token) h.authorization = `Bearer ${this.token}`;
    // A string or bytes are sent as they are (malformed JSON, invalid UTF-8), anything else as JSON.
    const raw = body === undefined || typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    const res = await fetch(this.base + path, { method, headers: h, body: raw });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (metrics, HTML)
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** A client of another API copy with the same session cookie, CSRF token and API token. */
  on(base: string): ApiClient {
    return Object.assign(new ApiClient(base), { cookie: this.cookie, csrf: this.csrf, token: this.token });
  }

  async login(username: string, password: string): Promise<ApiResponse> {
    const r = await this.req('POST', '/api/v1/auth/login', { username, password });
    if (r.status === 200) this.csrf = r.body.csrfToken;
    return r;
  }
}

/** A test file's own database, in-process roles including 'api', an admin 'ada' logged in and a viewer 'vic'. */
export interface ApiCluster {
  readonly t: TestDatabase;
  readonly cluster: TestCluster;
  readonly base: string;
  readonly admin: ApiClient;
}

/** Registers before/after hooks; `dagIds` are waited for before the first test. */
export function useApiCluster(dagsFolder: string, dagIds: string[], extra: Partial<Record<OptionName, unknown>>,
  roles: RoleName[]): ApiCluster {
  const state: Partial<{ -readonly [K in keyof ApiCluster]: ApiCluster[K] }> = {};
  before(async () => {
    const t = await freshDatabase();
    state.t = t;
    state.cluster = await startRoles(testOptions(t.url, dagsFolder, { apiPort: 0, apiDrainSec: 0, ...extra }), roles);
    state.base = `http://127.0.0.1:${state.cluster.roles.find((r) => r.apiPort)!.apiPort}`;
    for (const id of dagIds) await waitForDag(t.db, id);
    await createUser(t.db, 'ada', 'correct horse', 'admin');
    await createUser(t.db, 'vic', 'viewer password', 'viewer');
    state.admin = new ApiClient(state.base);
    const login = await state.admin.login('ada', 'correct horse');
    if (login.status !== 200) throw new Error(`admin login failed: ${login.status}`);
  });
  after(async () => {
    await state.cluster?.stop();
    await state.t?.drop();
  });
  return {
    get t() { return state.t!; },
    get cluster() { return state.cluster!; },
    get base() { return state.base!; },
    get admin() { return state.admin!; },
  };
}
