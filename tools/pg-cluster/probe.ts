// The database's own outage, seen by a client: one INSERT every 100 ms through a URL (HAProxy
// read-write), on its own connection that reconnects after any error. Every acknowledged id
// is remembered, so that what a failover lost can be counted on the new primary.
import pg from 'pg';

export interface ProbeSample { sentAt: number; doneAt: number; ok: boolean; id: number }

export const PROBE_TABLE_SQL = 'CREATE TABLE IF NOT EXISTS keel_failover_probe (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())';

export class WriteProbe {
  readonly samples: ProbeSample[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;
  private client: pg.Client | null = null;

  constructor(private readonly url: string, private readonly everyMs = 100, private readonly maxSamples = 20_000) {}

  async start(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 3000 });
    await c.connect();
    await c.query(PROBE_TABLE_SQL);
    await c.end();
    this.loop = this.run();
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000, query_timeout: 2000, keepAlive: true });
    c.on('error', () => {});
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => {});
      throw err;
    }
    this.client = c;
    return c;
  }

  private async run(): Promise<void> {
    let id = 0;
    while (!this.stopped && this.samples.length < this.maxSamples) {
      const sentAt = Date.now();
      id++;
      let ok = false;
      try {
        const c = await this.connect();
        await c.query('INSERT INTO keel_failover_probe (id) VALUES ($1)', [id]);
        ok = true;
      } catch {
        const c = this.client;
        this.client = null;
        await c?.end().catch(() => {});
      }
      const doneAt = Date.now();
      this.samples.push({ sentAt, doneAt, ok, id });
      await new Promise((r) => setTimeout(r, Math.max(0, this.everyMs - (doneAt - sentAt))));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.client?.end().catch(() => {});
    this.client = null;
  }

  /** Ids the server acknowledged. */
  acknowledged(): number[] {
    return this.samples.filter((s) => s.ok).map((s) => s.id);
  }

  /** Acknowledged ids that the database (now) does not have: what the failover lost. */
  async lost(url: string): Promise<number[]> {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await c.connect();
    try {
      const have = new Set((await c.query<{ id: string }>('SELECT id FROM keel_failover_probe')).rows.map((r) => Number(r.id)));
      return this.acknowledged().filter((id) => !have.has(id));
    } finally {
      await c.end();
    }
  }
}
