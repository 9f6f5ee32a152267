// Checks judged over the whole run, once every target has been probed:
// DNS-1 silent families, ALLOC-3 (transport matrix), AUTH-4 (which side has
// the wrong secret). More run checks append to RUN_CHECKS.
import { timingSafeEqual } from 'node:crypto';
import { restPassword } from '../credentials/rest';
import type { Family, Finding } from '../types';
import type { RunContext, TargetState } from './context';
import type { Resolved } from './dns';
import { finding } from './finding';
import { realmCheck } from './realm';
import { softwareCheck } from './sec';
import { uriChecks } from './uri-checks';

export type RunCheck = (ctx: RunContext, states: TargetState[], resolved: Resolved[]) => Promise<Finding[]>;

const answered = (s: TargetState) => s.findings.some((f) => f.id === 'NET-1' && f.status === 'pass');

/** DNS-1 warn: a family whose published addresses never answer while the other family's do. */
const silentFamilies: RunCheck = async (_ctx, states, resolved) => {
  const out: Finding[] = [];
  for (const r of resolved) {
    if (r.uri.ipLiteral !== 0) continue;
    const mine = states.filter((s) => s.target.uri === r.uri);
    const by = (fam: Family) => mine.filter((s) => s.target.family === fam);
    for (const [fam, other, cause, rr] of [
      ['ipv6', 'ipv4', 'aaaa-silent', 'AAAA'],
      ['ipv4', 'ipv6', 'a-silent', 'A'],
    ] as const) {
      const silent = by(fam);
      if (silent.length > 0 && !silent.some(answered) && by(other).some(answered)) {
        out.push(
          finding('DNS-1', {
            status: 'warn',
            severity: fam === 'ipv6' ? 'medium' : 'high',
            cause,
            uri: r.uri.raw,
            family: fam,
            summary: `${r.uri.host} publishes ${rr} ${silent.map((s) => s.target.address).join(', ')} but nothing answers there, while ${other === 'ipv4' ? 'IPv4' : 'IPv6'} works (clients may try the silent address first and stall).`,
            evidence: { host: r.uri.host, silent: silent.map((s) => s.target.address) },
          }),
        );
      }
    }
  }
  return out;
};

/** ALLOC-3: which transport x family combinations relay data. */
const transportMatrix: RunCheck = async (_ctx, states) => {
  const turn = states.filter((s) => s.target.uri.scheme !== 'stun');
  if (turn.length === 0) return [];
  const matrix: Record<string, Partial<Record<Family, boolean>>> = {};
  for (const s of turn) {
    const key = s.target.uri.scheme === 'turns' ? 'tls' : s.target.uri.transport;
    const row = (matrix[key] ??= {});
    row[s.target.family] = (row[s.target.family] ?? false) || s.result.turnWorks;
  }
  const working = Object.entries(matrix).flatMap(([t, row]) => Object.entries(row).filter(([, ok]) => ok).map(([f]) => `${t.toUpperCase()}/${f === 'ipv4' ? 'IPv4' : 'IPv6'}`));
  if (working.length === 0) {
    // A summary, not a cause: each URI's own first failure says why (no second accusation).
    return [finding('ALLOC-3', { status: 'info', cause: 'no-transport', summary: 'No TURN transport relays data (see each URI for why).', evidence: { matrix } })];
  }
  return [finding('ALLOC-3', { status: 'info', summary: `TURN relays data over ${working.join(', ')}.`, evidence: { matrix } })];
};

/** AUTH-4 (first half): do the handed-out credentials match the shared secret we hold? */
const secretAgreement: RunCheck = async (ctx) => {
  const { creds } = ctx;
  if (!creds.sharedSecret || creds.source.kind !== 'homeserver') return [];
  const expected = Buffer.from(restPassword(creds.sharedSecret, creds.username).reveal());
  const given = Buffer.from(creds.password.reveal());
  const same = expected.length === given.length && timingSafeEqual(expected, given);
  return [
    same
      ? finding('AUTH-4', { status: 'pass', summary: "The homeserver's credentials are signed with the shared secret the run holds.", evidence: {} })
      : finding('AUTH-4', {
          status: 'fail',
          severity: 'high',
          cause: 'homeserver-secret-differs',
          summary: "The homeserver's `turn_shared_secret` differs from the TURN server's `static-auth-secret` (the credentials it hands out are not signed with it).",
          evidence: {},
        }),
  ];
};

// softwareCheck last: the once-per-URI checks may still see SOFTWARE.
export const RUN_CHECKS: RunCheck[] = [silentFamilies, transportMatrix, secretAgreement, uriChecks, realmCheck, softwareCheck];
