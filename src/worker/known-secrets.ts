// The secret values a worker masks in task logs: connection passwords (decrypted with the
// secret key, when the worker has one), and connection extra fields and variables whose names
// look sensitive. Read again when attempts start, at most every RELOAD_MS, so a secret is
// masked from the first attempt that starts a few seconds after it was saved.
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import { SecretMasker } from '../secrets/masker.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { readSecretValues } from '../secrets/known-values.js';

const RELOAD_MS = 5000;

export class KnownSecrets {
  private current = new SecretMasker([]);
  private loadedAt = -Infinity;
  /** Connections whose password this worker cannot decrypt, warned about once each ('': it has no key). */
  private readonly undecryptable = new Set<string>();

  constructor(private readonly db: Database, private readonly box: SecretBox | null, private readonly log: Logger) {}

  get masker(): SecretMasker {
    return this.current;
  }

  /** Reloads the secrets when they are older than RELOAD_MS; on failure the previous ones stay in use. */
  async refresh(): Promise<void> {
    if (performance.now() - this.loadedAt < RELOAD_MS) return;
    try {
      this.current = new SecretMasker(await readSecretValues(this.db, (connId, stored) => this.decrypt(connId, stored)));
      this.loadedAt = performance.now();
    } catch (err) {
      this.log.warn({ err }, 'could not load the secrets to mask in task logs; the ones loaded before stay in use');
    }
  }

  private decrypt(connId: string, stored: Buffer): string | null {
    if (!this.box) {
      this.warnOnce('', null, 'connections have passwords but this worker has no secretKey (KEEL_SECRET_KEY), so task logs cannot mask them: give every worker the API\'s key');
      return null;
    }
    try {
      return this.box.decrypt(stored);
    } catch (err) {
      this.warnOnce(connId, err, `the password of connection "${connId}" does not decrypt with this worker's secretKey, so task logs cannot mask it: give every worker the API's key`);
      return null;
    }
  }

  private warnOnce(connId: string, err: unknown, message: string): void {
    if (this.undecryptable.has(connId)) return;
    this.undecryptable.add(connId);
    this.log.warn(err ? { err } : {}, message);
  }
}
