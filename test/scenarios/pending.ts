// Checks the catalogue promises but the engine does not emit yet. A scenario
// expectation about one of these, when the report holds no finding with that
// id at all, is shown as "pending" (never as passed). When the check lands the
// report holds it and the expectation is judged normally; the runner then says
// "landed: remove from PENDING_CHECKS" so this list shrinks to nothing.
import type { CheckId } from '../../src/tester/checks';

// Everything landed by 47e8d74 (ACL-1..5, TCPR-1, SEC-1, STUN-2, AUTH-4/5,
// ALLOC-2/4, DATA-3) and da9a079 (QUAL-1).
export const PENDING_CHECKS: readonly CheckId[] = [];
