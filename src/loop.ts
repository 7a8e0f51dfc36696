// A wake-able sleep: loops wait for the poll interval or an earlier wake().
export class Wakeup {
  private pending = false;
  private resolve: (() => void) | null = null;

  wake(): void {
    this.pending = true;
    this.resolve?.();
  }

  async wait(ms: number): Promise<void> {
    if (!this.pending) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.resolve?.(), ms);
        this.resolve = () => {
          clearTimeout(timer);
          this.resolve = null;
          resolve();
        };
      });
    }
    this.pending = false;
  }
}
