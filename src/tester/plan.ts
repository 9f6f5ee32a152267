// The test plan: URIs x families -> targets, and the run's limits (at most 3
// allocations at once, per-request deadlines shortened by the run deadline).
import type { Resolved } from './probes/dns';
import type { Family, Target } from './types';

export const MAX_CONCURRENT_ALLOCATIONS = 3;

/** Releases every permit still held; keep(n) gives back all but n. Idempotent. */
export type Release = (() => void) & { keep(n: number): void };

/** Counting semaphore; acquire(n) takes n permits at once (DATA-2 holds two allocations). */
export class Semaphore {
  #free: number;
  readonly #waiters: { n: number; go: () => void }[] = [];
  constructor(readonly size: number) {
    this.#free = size;
  }
  async acquire(n = 1): Promise<Release> {
    const need = Math.min(n, this.size);
    if (this.#free >= need && this.#waiters.length === 0) {
      this.#free -= need;
    } else {
      await new Promise<void>((go) => this.#waiters.push({ n: need, go }));
    }
    let held = need;
    const release = (() => {
      if (held === 0) return;
      this.#free += held;
      held = 0;
      this.#pump();
    }) as Release;
    // Give back all but `keep` permits (e.g. after DATA-2 closed its second allocation).
    release.keep = (keep: number) => {
      const back = held - Math.max(0, Math.min(held, keep));
      if (back <= 0) return;
      held -= back;
      this.#free += back;
      this.#pump();
    };
    return release;
  }
  #pump(): void {
    while (this.#waiters.length > 0 && this.#free >= this.#waiters[0].n) {
      const w = this.#waiters.shift()!;
      this.#free -= w.n;
      w.go();
    }
  }
}

/** The run's overall deadline; probes ask it how long they may still wait. */
export class Deadline {
  readonly #end: number;
  constructor(totalMs: number) {
    this.#end = performance.now() + totalMs;
  }
  remaining(): number {
    return Math.max(0, this.#end - performance.now());
  }
  /** A per-step timeout: the step's own default, never past the run's end. */
  cap(ms: number): number {
    return Math.max(1, Math.min(ms, this.remaining()));
  }
  get expired(): boolean {
    return this.remaining() <= 0;
  }
}

export function planTargets(resolved: Resolved[], families: Family[]): Target[] {
  const targets: Target[] = [];
  for (const r of resolved) {
    for (const a of r.addresses) {
      if (families.includes(a.family)) targets.push({ uri: r.uri, family: a.family, address: a.address });
    }
  }
  return targets;
}
