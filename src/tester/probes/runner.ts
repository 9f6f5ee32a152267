// The one runner: every check of the registry runs here, the same way. Each
// unit (the run, a URI, a target, or a unit of a scope another part adds) runs
// its scope's checks in registry order; units run concurrently. A check waits
// for the checks it needs (in its unit, or every unit of another scope), is
// skipped when a needed check failed, holds the allocations it declares from
// the run's budget, and a throw becomes a skip finding instead of a crash.
import type { CheckId } from '../checks';
import { TurnError } from '../turn';
import type { Finding } from '../types';
import type { AnyCheckDef, Scope } from './check';
import type { Unit } from './context';
import { finding, skipped } from './finding';

export type UnitsByScope = { [S in Scope]?: readonly Unit[] };

interface Barrier {
  remaining: number;
  done: Promise<void>;
  tick: () => void;
}

function barrier(count: number): Barrier {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const b: Barrier = {
    remaining: count,
    done,
    tick: () => {
      if (--b.remaining === 0) resolve();
    },
  };
  if (count === 0) resolve();
  return b;
}

/** Why a check did not run because of what it needed, or null when it may run. */
function blockedBy(def: AnyCheckDef, unit: Unit, byId: ReadonlyMap<CheckId, AnyCheckDef>, blocked: ReadonlyMap<CheckId, string>): string | null {
  for (const n of def.needs ?? []) {
    const need = byId.get(n);
    if (!need || need.scope !== def.scope) continue;
    const why = blocked.get(n);
    if (why) return why;
    const blocks = need.blocks ?? (() => true);
    if (unit.findings.some((f) => f.id === n && f.status === 'fail' && blocks(f))) return `not run: ${n} failed`;
  }
  return null;
}

/** A probe that throws: a skip naming what went wrong (a TURN failure mid-test, or our own bug), never a crash. */
function thrown(def: AnyCheckDef, unit: Unit, e: unknown): { f: Finding; why: string } {
  if (e instanceof TurnError) {
    const why = `not run: the connection failed mid-test (${e.kind})`;
    return { f: skipped(def.id, why, unit.scope), why };
  }
  const what = e instanceof Error ? e.name : 'error';
  const why = `not run: internal error (${what})`;
  return { f: finding(def.id, { ...unit.scope, status: 'skip', summary: why, evidence: { reason: 'internal-error' } }), why };
}

/** Run the selected definitions (in registry order) on the units of their scopes. */
export async function runChecks(defs: readonly AnyCheckDef[], units: UnitsByScope): Promise<void> {
  const byId = new Map(defs.map((d) => [d.id, d] as const));
  const barriers = new Map(defs.map((d) => [d.id, barrier(units[d.scope]?.length ?? 0)] as const));
  const chains = (Object.keys(units) as Scope[]).flatMap((scope) =>
    (units[scope] ?? []).map((u) =>
      runUnit(
        u,
        defs.filter((d) => d.scope === scope),
        byId,
        barriers,
      ),
    ),
  );
  await Promise.all(chains);
}

async function runUnit(unit: Unit, chain: readonly AnyCheckDef[], byId: ReadonlyMap<CheckId, AnyCheckDef>, barriers: ReadonlyMap<CheckId, Barrier>): Promise<void> {
  const { ctx } = unit;
  const blocked = new Map<CheckId, string>();
  // unit.hold: the permits held now (a check may swap it, e.g. to retry with fewer at once).
  let inShared = false;
  const endShared = async () => {
    unit.hold?.();
    unit.hold = null;
    inShared = false;
    await unit.releaseShared();
  };
  /** The most permits any of the consecutive shared checks from i on holds. */
  const segmentNeed = (i: number) => {
    let n = 0;
    for (let j = i; j < chain.length && chain[j]!.shared; j++) n = Math.max(n, allocationsOf(chain[j]!, ctx.allocations.size));
    return n;
  };
  const ticked = new Set<CheckId>();
  const tick = (id: CheckId) => {
    if (ticked.has(id)) return;
    ticked.add(id);
    barriers.get(id)!.tick();
  };
  try {
    for (const [i, def] of chain.entries()) {
      // Checks of other scopes it waits for: never while holding allocations others may need to get there.
      const waits = [...(def.needs ?? []), ...(def.after ?? [])].map((n) => byId.get(n)).filter((d): d is AnyCheckDef => !!d && d.scope !== def.scope);
      for (const w of waits) {
        const b = barriers.get(w.id)!;
        if (b.remaining > 0 && inShared) await endShared();
        await b.done;
      }
      await runOne(def, i);
      tick(def.id);
      // Leaving a shared segment: delete the allocation now, not at the end of the unit.
      if (def.shared && !chain[i + 1]?.shared) await endShared();
    }
  } finally {
    // Whatever happened, no unit may leave another waiting, or an allocation behind.
    for (const d of chain) tick(d.id);
    await endShared();
  }

  async function runOne(def: AnyCheckDef, i: number): Promise<void> {
    if (def.applies && !(def.applies as (u: Unit) => boolean)(unit)) return;
    const why = blockedBy(def, unit, byId, blocked);
    if (why) {
      blocked.set(def.id, why);
      unit.add(skipped(def.id, why, unit.scope));
      return;
    }
    // Past the run's deadline a probe that would open or use an allocation is not started: it could
    // only time out at once, and that would read as the server's fault. Run-scope judgments still run.
    const late = () => def.scope !== 'run' && (def.shared || allocationsOf(def, ctx.allocations.size) > 0) && ctx.deadline.expired;
    if (late()) return lateSkip(def);
    if (def.shared) {
      if (inShared) unit.hold?.keep(segmentNeed(i));
      else if (segmentNeed(i) > 0) {
        unit.hold = await ctx.allocations.acquire(segmentNeed(i));
        inShared = true;
      }
    } else {
      if (inShared) await endShared();
      const n = def.allocations ?? 0;
      if (n === 'all' || n > 0) unit.hold = await ctx.allocations.acquire(n);
    }
    // Waiting for the allocation budget may have taken us past it.
    if (late()) {
      if (!def.shared) {
        unit.hold?.();
        unit.hold = null;
      }
      return lateSkip(def);
    }
    try {
      const out = await (def.run as (u: Unit) => Promise<Finding | Finding[] | null | void>)(unit);
      for (const f of out ? (Array.isArray(out) ? out : [out]) : []) unit.add(f);
    } catch (e) {
      const t = thrown(def, unit, e);
      blocked.set(def.id, t.why);
      unit.add(t.f);
    } finally {
      if (!def.shared) {
        unit.hold?.();
        unit.hold = null;
      }
    }
  }

  function lateSkip(def: AnyCheckDef): void {
    const why = `not run: the run's deadline (${Math.round(ctx.options.timeoutMs / 1000)} s) passed first`;
    blocked.set(def.id, why);
    unit.add(skipped(def.id, why, unit.scope));
  }
}

function allocationsOf(def: AnyCheckDef, all: number): number {
  const n = def.allocations ?? 0;
  return n === 'all' ? all : n;
}
