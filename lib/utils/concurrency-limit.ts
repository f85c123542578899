/**
 * Turns for at most `limit` holders at once; the others wait for a free turn, first come first served. A holder
 * gives its turn back by calling the function `acquire` resolved to (once; later calls do nothing).
 */
export class ConcurrencyLimit {
  private holders = 0;
  /** Waiters from `head` on: taken by index, so a long queue drains in linear time. */
  private waiting: Array<(() => void) | undefined> = [];
  private head = 0;

  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.holders < this.limit) this.holders++;
    // A turn given back goes straight to the next waiter, so `holders` still counts it.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.handOver();
    };
  }

  private handOver(): void {
    const next = this.waiting[this.head];
    if (next === undefined) {
      this.holders--;
      return;
    }
    this.waiting[this.head++] = undefined;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    next();
  }
}
