// The test plan: URIs x families -> targets, and the run's limits (at most 3
// allocations at once, per-request deadlines shortened by the run deadline).
import type { Resolved } from './probes/dns';
import type { Family, Target } from './types';

export const MAX_CONCURRENT_ALLOCATIONS = 3;

/** Releases every permit still held; keep(n) gives back all but n. Idempotent. */
export type Release = (() => void) & { keep(n: number): void; readonly held: number };

/**
 * The run's allocation budget: a counting semaphore whose size can shrink
 * when a server shows it allows fewer allocations at once than we hold
 * (user-quota): the run then continues with fewer at once instead of
 * blaming the server for our own load. acquire(n) takes n permits at once
 * (DATA-2 holds two allocations); 'all' takes every permit (a quota test
 * must be the only thing of ours allocating).
 */
export class AllocationBudget {
  #size: number;
  #free: number;
  readonly #waiters: { n: number | 'all'; go: (granted: number) => void }[] = [];
  constructor(size: number) {
    this.#size = Math.max(1, Math.floor(size));
    this.#free = this.#size;
  }
  get size(): number {
    return this.#size;
  }
  /** Permits held by someone right now. */
  get inUse(): number {
    return this.#size - this.#free;
  }
  /** Fewer allocations at once from now on (never below 1). */
  shrinkTo(n: number): void {
    const to = Math.max(1, Math.min(this.#size, Math.floor(n)));
    this.#free -= this.#size - to;
    this.#size = to;
    this.#pump(); // an 'all' waiter may fit the smaller size now
  }
  #need(n: number | 'all'): number {
    return n === 'all' ? this.#size : Math.max(0, Math.min(n, this.#size));
  }
  async acquire(n: number | 'all' = 1): Promise<Release> {
    let held: number;
    if (this.#waiters.length > 0 || this.#free < this.#need(n)) {
      held = await new Promise<number>((go) => this.#waiters.push({ n, go }));
    } else {
      held = this.#need(n);
      this.#free -= held;
    }
    const give = (back: number) => {
      if (back <= 0) return;
      held -= back;
      this.#free += back;
      this.#pump();
    };
    const release = (() => give(held)) as Release;
    // Give back all but `keep` permits (e.g. after DATA-2 closed its second allocation).
    release.keep = (keep: number) => give(held - Math.max(0, Math.min(held, keep)));
    Object.defineProperty(release, 'held', { get: () => held });
    return release;
  }
  #pump(): void {
    while (this.#waiters.length > 0 && this.#free >= this.#need(this.#waiters[0]!.n)) {
      const w = this.#waiters.shift()!;
      const granted = this.#need(w.n);
      this.#free -= granted;
      w.go(granted);
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
  /** The end as a performance.now() time (a TURN client caps each request by it). */
  get at(): number {
    return this.#end;
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
