// "At most once per window per key", bounded in size: the one cooldown used
// for run admission (per user, per room), refusal notices, encrypted-room
// notices and JSON uploads. A flood costs at most maxKeys map entries.
export class Throttle {
  private readonly last = new Map<string, number>();

  constructor(private readonly windowMs: number, private readonly now: () => number = Date.now, private readonly maxKeys = 10_000) {}

  /** Seconds until `key` may pass again (0: it may pass now). */
  waitS(key: string): number {
    const at = this.last.get(key);
    if (at === undefined || this.windowMs <= 0) return 0;
    return Math.max(0, Math.ceil((at + this.windowMs - this.now()) / 1000));
  }

  /** Record that `key` passed now. */
  mark(key: string): void {
    if (this.windowMs <= 0) return;
    this.last.delete(key);
    this.last.set(key, this.now());
    if (this.last.size > this.maxKeys) this.prune();
    // Still over (all entries live): drop the oldest, insertion order is time order.
    while (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value!);
  }

  /** Pass (and record) when the window since the last pass is over. */
  take(key: string): boolean {
    if (this.waitS(key) > 0) return false;
    this.mark(key);
    return true;
  }

  /** Drop entries whose window is over. */
  prune(): void {
    const t = this.now();
    for (const [k, at] of this.last) if (at + this.windowMs <= t) this.last.delete(k);
  }

  get size(): number {
    return this.last.size;
  }
}
