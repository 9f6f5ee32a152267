// The one shape of a check: its id, the unit it runs on (scope), what it needs
// from earlier checks, the allocations it holds, and the function that runs it.
// probes/registry.ts lists every definition; probes/runner.ts runs them all the
// same way (--only, gates, safety, concurrency, the allocation budget).
import type { CheckId } from '../checks';
import type { Finding } from '../types';
import type { RunUnit, TargetState, UriUnit } from './context';

/**
 * The units a check can run on. `run`: once per run; `uri`: once per URI;
 * `uri-family`: once per (URI, family, address) target. Other parts add a
 * scope by augmenting this interface (e.g. `rtc`: one LiveKit transport) and
 * handing the runner the units of that scope.
 */
export interface ScopeUnits {
  run: RunUnit;
  uri: UriUnit;
  'uri-family': TargetState;
}

export type Scope = keyof ScopeUnits;

export interface CheckDef<S extends Scope = Scope> {
  id: CheckId;
  scope: S;
  /**
   * Checks whose result this one needs. Same scope: they run first in the same
   * unit, and a failure of theirs (see `blocks`) turns this check into a skip.
   * Another scope: every unit of theirs finishes first; this check reads their
   * findings and decides itself. `--only` runs these too.
   */
  needs?: readonly CheckId[];
  /** Ordering only: run after these when they run at all (not pulled in by --only). */
  after?: readonly CheckId[];
  /**
   * Allocations held at once while it runs: a number, or 'all' (every permit
   * of the run: nothing else of ours allocates meanwhile, as a quota test needs).
   */
  allocations?: number | 'all';
  /** Runs on the unit's live allocation (made by an earlier shared check), not on allocations of its own. */
  shared?: boolean;
  /**
   * Failure causes it reports that are not written as `cause: '...'` in its
   * file (computed from a table); each needs a hint row (the registry test).
   */
  causes?: readonly string[];
  /** Other ids this check reports besides its own (e.g. the IPv6 relay's ACL audit); each still has its own definition. */
  emits?: readonly CheckId[];
  /** Judges safety rather than function (feeds the security verdict). */
  security?: boolean;
  /** Which of its failures gate the checks that need it (default: every fail). */
  blocks?: (f: Finding) => boolean;
  /** Whether it applies to this unit at all (no finding otherwise). */
  applies?: (unit: ScopeUnits[S]) => boolean;
  /** The probe. A throw becomes a skip naming an internal error, never a crash. */
  run(unit: ScopeUnits[S]): Promise<Finding | Finding[] | null | void>;
}

/** Any definition, whatever its scope (the registry's element type). */
export type AnyCheckDef = { [S in Scope]: CheckDef<S> }[Scope];

/** Type helper: a definition checked against its scope's unit type. */
export function defineCheck<S extends Scope>(def: CheckDef<S>): CheckDef<S> {
  return def;
}
