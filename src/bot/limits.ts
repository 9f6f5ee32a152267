// Per-user and per-room cooldowns and a global concurrency bound. Requests
// over the bound are refused with a wait time, never queued: a flood costs
// at most one map entry per user and room.
export type Admission =
  | { ok: true; release: () => void }
  | { ok: false; reason: 'user-cooldown' | 'room-cooldown' | 'busy'; retryAfterS: number; message: string };

export interface LimitsConfig {
  userCooldownSeconds: number;
  roomCooldownSeconds: number;
  maxConcurrentRuns: number;
  /** Expected run length, to estimate "try again in N s" when busy. */
  expectedRunMs: number;
}

export class Limits {
  private readonly lastByUser = new Map<string, number>();
  private readonly lastByRoom = new Map<string, number>();
  private readonly running = new Map<number, number>();
  private seq = 0;

  constructor(private readonly cfg: LimitsConfig, private readonly now: () => number = Date.now) {}

  get active(): number {
    return this.running.size;
  }

  admit(user: string, room: string, opts: { ignoreCooldown?: boolean } = {}): Admission {
    const t = this.now();
    if (!opts.ignoreCooldown) {
      const u = this.wait(this.lastByUser.get(user), this.cfg.userCooldownSeconds, t);
      if (u > 0) return { ok: false, reason: 'user-cooldown', retryAfterS: u, message: `You started a test recently; try again in ${u} s.` };
      const r = this.wait(this.lastByRoom.get(room), this.cfg.roomCooldownSeconds, t);
      if (r > 0) return { ok: false, reason: 'room-cooldown', retryAfterS: r, message: `A test ran in this room recently; try again in ${r} s.` };
    }
    if (this.running.size >= this.cfg.maxConcurrentRuns) {
      const oldest = Math.min(...this.running.values());
      const s = Math.max(1, Math.ceil((oldest + this.cfg.expectedRunMs - t) / 1000));
      return { ok: false, reason: 'busy', retryAfterS: s, message: `Busy with ${this.running.size} test(s); try again in ${s} s.` };
    }
    if (!opts.ignoreCooldown) {
      this.lastByUser.set(user, t);
      this.lastByRoom.set(room, t);
    }
    const id = ++this.seq;
    this.running.set(id, t);
    let released = false;
    return { ok: true, release: () => { if (!released) { released = true; this.running.delete(id); } } };
  }

  private wait(last: number | undefined, cooldownS: number, t: number): number {
    if (last === undefined || cooldownS === 0) return 0;
    return Math.max(0, Math.ceil((last + cooldownS * 1000 - t) / 1000));
  }

  /** Drop cooldown entries that have expired (called now and then). */
  prune(): void {
    const t = this.now();
    for (const [m, s] of [[this.lastByUser, this.cfg.userCooldownSeconds], [this.lastByRoom, this.cfg.roomCooldownSeconds]] as const) {
      for (const [k, v] of m) if (v + s * 1000 <= t) m.delete(k);
    }
  }
}
