// The tester never reports its own load as the server's fault. An Allocate
// refused with 486 (quota) or 508 (no relay port) while other allocations of
// ours are live is retried with fewer allocations at once (the run's budget
// shrinks for good); one refused right after our own deletions is retried once
// after coturn has freed them; a 437 (our own 5-tuple still holds an
// allocation) is retried once on a fresh connection. Only what remains after
// that is the server's answer.
import type { AllocateResult } from '../turn';
import { TurnError } from '../turn';
import type { Unit } from './context';

/** coturn frees a deleted allocation about 1 s after Refresh(LIFETIME=0). */
export const LINGER_MS = 1500;
/** Retries while nothing else of ours is live: polled finely, so a run held to one allocation at a time loses little. */
const LINGER_STEPS_MS = [150, 250, 250, 250, 300, 300, 400, 500];
const MAX_ATTEMPTS = 12;

export interface OurLoad {
  /** Refusals that were ours, not the server's (evidence). */
  retried: { code: number; othersHeld: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `attempt` (one Allocate); `fresh` asks for a new connection (after 437).
 * Throws the server's answer when it is not explained by our own load.
 */
export async function allocateUnderOurLoad(unit: Unit, attempt: (fresh: boolean) => Promise<AllocateResult>, load: OurLoad = { retried: [] }, alsoHolding = 0): Promise<AllocateResult> {
  const { ctx } = unit;
  let lingered = 0;
  let fresh = false;
  for (let n = 1; ; n++) {
    try {
      return await attempt(fresh);
    } catch (e) {
      if (!(e instanceof TurnError) || e.kind !== 'error-response' || n >= MAX_ATTEMPTS || ctx.deadline.remaining() < LINGER_MS + 2000) throw e;
      // (alsoHolding: allocations of ours the caller itself keeps live meanwhile, e.g. DATA-2's first.)
      if (e.code === 437 && !fresh) {
        fresh = true;
        load.retried.push({ code: 437, othersHeld: 0 });
        continue;
      }
      if (e.code !== 486 && e.code !== 508) throw e;
      const mine = unit.hold?.held ?? 0;
      const others = ctx.allocations.inUse - mine;
      load.retried.push({ code: e.code, othersHeld: others });
      if (others > 0) {
        // Our own concurrency met the server's limit: fewer at once, and wait our turn.
        ctx.allocations.shrinkTo(Math.min(ctx.allocations.size - 1, others));
        unit.hold?.();
        unit.hold = await ctx.allocations.acquire(Math.max(1, mine));
        continue;
      }
      if (lingered >= LINGER_STEPS_MS.length) {
        // Still refused with only the caller's own allocations live: that many is all the server allows.
        if (alsoHolding > 0) ctx.allocations.shrinkTo(alsoHolding);
        throw e;
      }
      await sleep(LINGER_STEPS_MS[lingered++]!);
    }
  }
}
