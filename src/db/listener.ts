// A dedicated LISTEN connection that reconnects with backoff. Notifications only make
// loops react faster; every loop also polls, so a lost notification costs latency only.
// LISTEN needs a real session: it connects through the Database's session URL (behind
// PgBouncer in transaction pooling, the direct `sessionDatabaseUrl`).
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from './database.js';
import { backoffMs } from './transient.js';
import { retryPause, type Availability } from './availability.js';
import { sql } from './sql.js';

/** The channels Keel notifies on (db/notify_*.sql), each with its LISTEN statement. */
const LISTEN = {
  keel_scheduler: sql('db/listen_keel_scheduler'),
  keel_queued: sql('db/listen_keel_queued'),
  keel_triggerer: sql('db/listen_keel_triggerer'),
};
export type Channel = keyof typeof LISTEN;

export class Listener {
  private client: pg.Client | null = null;
  private stopped = false;
  private attempt = 0;
  private readonly availability: Availability;
  private readonly pause: (ms: number) => Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly channels: Channel[],
    private readonly onNotify: (channel: string, payload: string) => void,
    private readonly log?: Logger,
  ) {
    this.availability = database.sessionAvailability;
    this.pause = retryPause(this.availability, { unref: true });
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = this.database.newClient('session', { application_name: 'keel-listener', keepAlive: true, keepAliveInitialDelayMillis: 10000, connectionTimeoutMillis: 5000 });
    client.on('notification', (n) => this.onNotify(n.channel, n.payload ?? ''));
    client.on('error', (err) => {
      this.availability.lost();
      this.log?.warn({ err }, 'LISTEN connection lost');
    });
    client.on('end', () => {
      if (this.client === client) this.client = null;
      this.scheduleReconnect();
    });
    try {
      await client.connect();
      for (const ch of this.channels) await client.query(LISTEN[ch]);
      this.client = client;
      this.attempt = 0;
      this.availability.reached();
    } catch (err) {
      this.availability.lost();
      this.log?.warn({ err }, 'LISTEN connection failed; retrying');
      await client.end();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    // Reconnects as soon as any call of this process reaches the database again.
    void this.pause(backoffMs(this.attempt++)).then(() => this.connect());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end();
  }
}
