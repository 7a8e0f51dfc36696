// An attempt's log in memory, capped; stored with the attempt when it ends.
export class AttemptLog {
  private parts: string[] = [];
  private bytes = 0;
  private truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(line: string): void {
    if (this.truncated) return;
    const stamped = `${new Date().toISOString()} ${line}\n`;
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
}
