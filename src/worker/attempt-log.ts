// An attempt's log in memory, capped; stored with the attempt when it ends. Known secret
// values are masked as lines are added, so they never reach the database.
import type { SecretMasker } from '../secrets/masker.js';

export class AttemptLog {
  private parts: string[] = [];
  private bytes = 0;
  private truncated = false;
  /** Parts already written to the database while the attempt runs. */
  private flushed = 0;

  constructor(private readonly maxBytes: number, private currentMasker: SecretMasker) {}

  get masker(): SecretMasker {
    return this.currentMasker;
  }

  /** Masks these values too from now on: secrets handed to the task, which the worker's known set may not hold yet. */
  maskAlso(secrets: readonly string[]): void {
    this.currentMasker = this.currentMasker.with(secrets);
  }

  add(line: string): void {
    if (this.truncated) return;
    const stamped = `${new Date().toISOString()} ${this.currentMasker.mask(line)}\n`;
    const size = Buffer.byteLength(stamped);
    if (this.bytes + size > this.maxBytes) {
      this.truncated = true;
      this.parts.push(`[log cut at ${this.maxBytes} bytes (taskLogMaxBytes)]\n`);
      return;
    }
    this.bytes += size;
    this.parts.push(stamped);
  }

  text(): string {
    return this.parts.join('');
  }

  /** What was added since the last call: appended to the stored log while the attempt runs, so it can be followed. */
  takeUnflushed(): string {
    const chunk = this.parts.slice(this.flushed).join('');
    this.flushed = this.parts.length;
    return chunk;
  }
}
