// Per-user and per-room cooldowns and a global concurrency bound. Requests
// over the bound are refused with a wait time, never queued: a flood costs
// at most one map entry per user and room.
import { Throttle } from './throttle';

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
  private readonly byUser: Throttle;
  private readonly byRoom: Throttle;
  private readonly running = new Map<number, number>();
  private seq = 0;

  constructor(private readonly cfg: LimitsConfig, private readonly now: () => number = Date.now) {
    this.byUser = new Throttle(cfg.userCooldownSeconds * 1000, now);
    this.byRoom = new Throttle(cfg.roomCooldownSeconds * 1000, now);
  }

  get active(): number {
    return this.running.size;
  }

  admit(user: string, room: string, opts: { ignoreCooldown?: boolean } = {}): Admission {
    const t = this.now();
    if (!opts.ignoreCooldown) {
      const u = this.byUser.waitS(user);
      if (u > 0) return { ok: false, reason: 'user-cooldown', retryAfterS: u, message: `You started a test recently; try again in ${u} s.` };
      const r = this.byRoom.waitS(room);
      if (r > 0) return { ok: false, reason: 'room-cooldown', retryAfterS: r, message: `A test ran in this room recently; try again in ${r} s.` };
    }
    if (this.running.size >= this.cfg.maxConcurrentRuns) {
      const oldest = Math.min(...this.running.values());
      const s = Math.max(1, Math.ceil((oldest + this.cfg.expectedRunMs - t) / 1000));
      return { ok: false, reason: 'busy', retryAfterS: s, message: `Busy with ${this.running.size} test(s); try again in ${s} s.` };
    }
    if (!opts.ignoreCooldown) {
      this.byUser.mark(user);
      this.byRoom.mark(room);
    }
    const id = ++this.seq;
    this.running.set(id, t);
    let released = false;
    return { ok: true, release: () => { if (!released) { released = true; this.running.delete(id); } } };
  }

  /** Drop cooldown entries that have expired (called now and then). */
  prune(): void {
    this.byUser.prune();
    this.byRoom.prune();
  }
}
