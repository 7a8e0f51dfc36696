// Every connection Keel makes goes through here: pools (their Client class), the component
// session and LISTEN connections (newClient). For a URL with several hosts or a
// target_session_attrs, a HostChooser probes the hosts in order and keeps the first that
// qualifies (for read-write: the one where transaction_read_only is off), and each new
// connection checks the server again, so a demoted primary is never written to for long.
// On a connection or read-only error the choice is forgotten and the next connection
// probes again. One chooser per URL a Database uses (an Endpoint), shared by all the
// connections that Database makes through that URL.
import pg from 'pg';
import { Availability } from './availability.js';
import { acceptable, needsCheck, parseDatabaseUrl, type HostPort, type ParsedDatabaseUrl, type ServerState } from './multi-host.js';
import { sql } from './sql.js';

interface StateRow { in_recovery: boolean; read_only: boolean; timeline: number }

/** An error the retry loop treats as transient: no server qualified, or the one chosen no longer does. */
export class NoSuitableServerError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

const describe = (h: HostPort) => `${h.host}:${h.port}`;

export class HostChooser {
  private current: HostPort | null = null;
  private probing: Promise<HostPort> | null = null;
  /** Host changes seen, for `keel ha status` and metrics. */
  changes = 0;
  private last: HostPort | null = null;

  constructor(readonly parsed: ParsedDatabaseUrl, private readonly connectTimeoutMs: number) {}

  get chosen(): HostPort | null {
    return this.current;
  }

  get checks(): boolean {
    return needsCheck(this.parsed);
  }

  async choose(): Promise<HostPort> {
    if (!this.checks) return this.parsed.hosts[0]!;
    if (this.current) return this.current;
    this.probing ??= this.probe().finally(() => { this.probing = null; });
    return this.probing;
  }

  /** Forget the chosen host (it failed or no longer qualifies): the next connection probes again. */
  invalidate(host?: HostPort): void {
    if (!host || (this.current && this.current.host === host.host && this.current.port === host.port)) this.current = null;
  }

  /** Forget the choice and probe every host again now (the split-brain check does, to see a moved primary). */
  async refresh(): Promise<HostPort> {
    this.current = null;
    return this.choose();
  }

  /**
   * Every host at once; the first acceptable in list order, except that among writable
   * primaries the newest timeline wins: after a failover an isolated old primary (its
   * Patroni dead, its postmaster alive) may still accept writes, on the older timeline.
   */
  private async probe(): Promise<HostPort> {
    const attrs = this.parsed.targetSessionAttrs;
    const results = await Promise.all(this.parsed.hosts.map(async (host): Promise<{ host: HostPort; state?: ServerState & { timeline: number }; error?: string }> => {
      try {
        return { host, state: await probeHost(this.parsed.urlFor(host), this.connectTimeoutMs) };
      } catch (err) {
        return { host, error: (err as Error).message };
      }
    }));
    const seen = results.filter((r): r is { host: HostPort; state: ServerState & { timeline: number } } => r.state !== undefined);
    const good = seen.filter((r) => acceptable(attrs, r.state));
    const writable = good.filter((r) => !r.state.inRecovery);
    if (writable.length > 1) return this.keep(writable.reduce((a, b) => (b.state.timeline > a.state.timeline ? b : a)).host);
    if (good.length) return this.keep(good[0]!.host);
    const fallback = seen.find((r) => acceptable(attrs, r.state, 'fallback'));
    if (fallback) return this.keep(fallback.host);
    const failures = results.map((r) => (r.state ? `${describe(r.host)} is ${r.state.inRecovery ? 'in recovery' : 'read-only'}` : `${describe(r.host)}: ${r.error}`));
    throw new NoSuitableServerError(`no server accepts target_session_attrs=${attrs} (${failures.join('; ')})`, '08001');
  }

  /** Bumped when the chosen host changes: connections made before are retired. */
  generation = 0;

  private keep(host: HostPort): HostPort {
    if (this.last && describe(this.last) !== describe(host)) {
      this.changes++;
      this.generation++;
    }
    this.last = host;
    this.current = host;
    return host;
  }
}

async function probeHost(url: string, connectTimeoutMs: number): Promise<ServerState & { timeline: number }> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, query_timeout: connectTimeoutMs, application_name: 'keel-host-probe' });
  c.on('error', () => {}); // the same error rejects the pending connect or query, which reports it
  try {
    await c.connect();
    const r = (await c.query<StateRow>(sql('db/server_state'))).rows[0]!;
    return { inRecovery: r.in_recovery, readOnly: r.read_only, timeline: r.timeline };
  } finally {
    await c.end();
  }
}

type Callback = (err: Error | undefined) => void;

/** A pg.Client class that connects to the host the chooser picks and checks the server. */
function clientClassFor(chooser: HostChooser): typeof pg.Client {
  if (!chooser.checks) return pg.Client;
  class ChosenClient extends pg.Client {
    /** The host this connection went to. */
    chosenHost: HostPort | null = null;
    private generation = -1;

    /** A connection to a host the chooser has since moved away from fails its next statement (transient), so pools drop it. */
    // @ts-expect-error: one implementation for all of pg.Client's query overloads
    override query(...args: unknown[]): unknown {
      if (this.generation >= 0 && this.generation !== chooser.generation) {
        const err = new NoSuitableServerError(`connection to ${describe(this.chosenHost!)} retired: the primary moved to ${chooser.chosen ? describe(chooser.chosen) : 'another host'}`, '57P01');
        const cb = args.find((a): a is (e: Error) => void => typeof a === 'function');
        if (cb) {
          process.nextTick(() => cb(err));
          return undefined;
        }
        return Promise.reject(err);
      }
      return (super.query as (...a: unknown[]) => unknown).apply(this, args);
    }

    // @ts-expect-error: one implementation for both of pg.Client's connect overloads
    override connect(callback?: Callback): Promise<void> | void {
      const done = this.connectChosen();
      if (!callback) return done;
      done.then(() => callback(undefined), (err: Error) => callback(err));
    }

    private async connectChosen(): Promise<void> {
      const host = await chooser.choose();
      this.chosenHost = host;
      const generation = chooser.generation;
      const self = this as unknown as { host: string; port: number; connectionParameters: { host: string; port: number } };
      self.host = self.connectionParameters.host = host.host;
      self.port = self.connectionParameters.port = host.port;
      try {
        await super.connect();
      } catch (err) {
        chooser.invalidate(host);
        throw err;
      }
      const r = (await (super.query as (text: string) => Promise<pg.QueryResult<StateRow>>).call(this, sql('db/server_state'))).rows[0]!;
      if (!acceptable(chooser.parsed.targetSessionAttrs, { inRecovery: r.in_recovery, readOnly: r.read_only }, 'fallback')) {
        chooser.invalidate(host);
        await this.end();
        throw new NoSuitableServerError(`${describe(host)} no longer accepts target_session_attrs=${chooser.parsed.targetSessionAttrs} (in recovery: ${r.in_recovery}, read-only: ${r.read_only})`, '25006');
      }
      this.generation = generation;
    }
  }
  return ChosenClient as unknown as typeof pg.Client;
}

/**
 * One URL a Database connects through: the chooser of its host, the Client class that
 * connects where the chooser points, and whether the database behind it is reachable.
 */
export class Endpoint {
  readonly chooser: HostChooser;
  readonly availability = new Availability();
  /** Pools and clients of this URL are made of this class. */
  readonly Client: typeof pg.Client;

  constructor(readonly url: string, connectTimeoutMs: number) {
    this.chooser = new HostChooser(parseDatabaseUrl(url), connectTimeoutMs);
    this.Client = clientClassFor(this.chooser);
  }

  /** The single-host connection string node-postgres is given (the chooser overrides host and port). */
  connectionString(): string {
    return this.chooser.parsed.urlFor(this.chooser.chosen ?? this.chooser.parsed.hosts[0]!);
  }

  /** A new, unconnected client: the session and LISTEN connections, the split-brain check. */
  newClient(config: Omit<pg.ClientConfig, 'connectionString'>): pg.Client {
    return new this.Client({ ...config, connectionString: this.connectionString() });
  }

  /** After a transient error on a connection: forget its host if the chooser had picked it. */
  forgetHostOf(client: unknown): void {
    const host = (client as { chosenHost?: HostPort | null }).chosenHost;
    if (this.chooser.checks) this.chooser.invalidate(host ?? undefined);
  }

  /** Connects once and checks that the server takes writes (not in recovery); throws otherwise. */
  async probeWritable(timeoutMs: number): Promise<void> {
    const client = this.newClient({ application_name: 'keel-probe', connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    client.on('error', () => {}); // the same error rejects the pending connect or query, which reports it
    try {
      await client.connect();
      const r = await client.query<StateRow>(sql('db/server_state'));
      if (r.rows[0]?.in_recovery) throw new Error('the server is in recovery');
    } finally {
      await client.end();
    }
  }
}
