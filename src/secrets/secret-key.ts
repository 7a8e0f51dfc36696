// The key that encrypts connection passwords at rest: secretKey (KEEL_SECRET_KEY), or on the
// embedded database one made once and kept owner-only beside the data, <dataDir>/secret-key.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KeelOptions } from '../config/options.js';
import { readOrCreateSecretFile } from './secret-file.js';

export function secretKeyOf(options: Pick<KeelOptions, 'secretKey' | 'databaseUrl' | 'dataDir'>): string | undefined {
  if (options.secretKey || options.databaseUrl) return options.secretKey;
  mkdirSync(options.dataDir, { recursive: true });
  return readOrCreateSecretFile(join(options.dataDir, 'secret-key'));
}
