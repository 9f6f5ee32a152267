// Grades, exactly as ARCHITECTURE.md "Scoring" says, from what was measured
// (TargetResult.stunWorks / turnWorks) and the findings; never from what a
// homeserver merely advertises.
//
// Readings of the rules (documented because the rules leave them open):
// - STUN support counts only on plain UDP (`stun:` or `turn:` UDP URIs); a
//   Binding answer over TCP/TLS earns nothing.
// - A `stun:` URI offers no TURN, so a STUN answer makes it Excellent ("TURN
//   works, and STUN too where applicable" with TURN not applicable).
// - A `turn:` UDP URI is expected to answer STUN too: TURN alone is Poor.
// - `turn:` TCP and `turns:` URIs are TURN-only: a working relay is Excellent
//   (the 2020 tester wrongly marked these Poor for lacking STUN).
// - A family with no targets at all (no AAAA, or not tested) grades Fail, and
//   whyNotHigher says plainly that nothing was published/tested for it, so the
//   admin sees why instead of a bare Fail.
// - Overall is the IPv4 grade (IPv6's when the run tested IPv6 only), capped at Poor by a critical security finding.
import { SECURITY_CHECKS, type CheckId } from './checks';
import { GRADE_RANK, type Family, type Finding, type Grade, type TargetResult } from './types';

export type UriGrade = Extract<Grade, 'Excellent' | 'Poor' | 'Fail'>;
export type SecurityVerdict = 'ok' | 'warn' | 'unsafe';

export interface WhyNotHigher {
  check: string;
  text: string;
  /** Which family the reason is about (null: the overall grade). Extra to schema 1, harmless. */
  family?: Family | null;
}

export interface GradeSummary {
  ipv4: Grade;
  ipv6: Grade;
  overall: Grade;
  whyNotHigher: WhyNotHigher[];
  /** MatrixRTC: the worst advertised transport's grade; absent when the run had no RTC part (schema 1, optional). */
  rtc?: Grade;
}

export interface SecuritySummary {
  verdict: SecurityVerdict;
  findings: string[];
}

export interface ScoreResult {
  grade: GradeSummary;
  security: SecuritySummary;
  /** One per TargetResult, same order. */
  targets: { grade: UriGrade; firstFailure: CheckId | null }[];
}

export { GRADE_RANK };


type Applies = 'all' | 'tls' | 'stun' | 'stream' | 'turn';

/** The gates a target passes through, in order; the first failing one is the URI's firstFailure. */
export const GATE_ORDER: readonly { id: CheckId; applies: Applies; causes?: readonly string[] }[] = [
  { id: 'DNS-1', applies: 'all' },
  { id: 'NET-1', applies: 'all' },
  { id: 'TLS-1', applies: 'tls' },
  { id: 'TLS-2', applies: 'tls' },
  { id: 'STUN-1', applies: 'stun' },
  // On TCP/TLS a Binding is not STUN support, but a port that does not speak STUN at all is a gate
  // (an ignored Binding is not: the URI is graded on its TURN).
  { id: 'STUN-1', applies: 'stream', causes: ['not-stun'] },
  { id: 'AUTH-2', applies: 'turn' },
  { id: 'ALLOC-1', applies: 'turn' },
  { id: 'DATA-1', applies: 'turn' },
  { id: 'E2E-1', applies: 'turn' },
];

const FAMILY_NAME: Record<Family, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

/** STUN is expected (and counts) only on plain UDP. */
export function stunApplies(t: Pick<TargetResult, 'scheme' | 'transport'>): boolean {
  return t.scheme !== 'turns' && t.transport === 'udp';
}

export function turnApplies(t: Pick<TargetResult, 'scheme'>): boolean {
  return t.scheme !== 'stun';
}

function stunOk(t: TargetResult): boolean {
  return stunApplies(t) && t.stunWorks;
}

function turnOk(t: TargetResult): boolean {
  return turnApplies(t) && t.turnWorks;
}

function secureTurnOk(t: TargetResult): boolean {
  return t.scheme === 'turns' && t.transport === 'tls' && t.turnWorks;
}

function turns443Ok(t: TargetResult): boolean {
  return secureTurnOk(t) && Number(t.port) === 443;
}

/** Per (URI, family) target: Fail / Poor / Excellent. */
export function gradeTarget(t: TargetResult): UriGrade {
  const stunExpected = stunApplies(t);
  const turnExpected = turnApplies(t);
  const s = stunOk(t);
  const r = turnOk(t);
  if (!s && !r) return 'Fail';
  if (!turnExpected) return 'Excellent'; // stun: URI with a STUN answer
  if (!r) return 'Poor'; // only STUN
  if (stunExpected && !s) return 'Poor'; // turn: UDP with TURN but no STUN
  return 'Excellent';
}

function gateApplies(applies: Applies, t: TargetResult): boolean {
  switch (applies) {
    case 'all':
      return true;
    case 'tls':
      return t.scheme === 'turns';
    case 'stun':
      return stunApplies(t);
    case 'stream':
      return t.transport !== 'udp';
    case 'turn':
      return turnApplies(t);
  }
}

function findingMatches(f: Finding, uri: string, family: Family): boolean {
  return f.uri === uri && (f.family === null || f.family === family);
}

/** The first failing gate for a target, in GATE_ORDER. */
export function firstFailure(t: TargetResult, findings: readonly Finding[]): CheckId | null {
  for (const gate of GATE_ORDER) {
    if (!gateApplies(gate.applies, t)) continue;
    const hit = (f: Finding) => f.id === gate.id && f.status === 'fail' && (!gate.causes || gate.causes.includes(f.cause ?? '')) && findingMatches(f, t.uri, t.family);
    if (findings.some(hit)) return gate.id;
  }
  return null;
}

function firstFailureAmong(targets: readonly TargetResult[], findings: readonly Finding[]): CheckId | null {
  let best: number | null = null;
  for (const t of targets) {
    const id = firstFailure(t, findings);
    if (id === null) continue;
    const i = GATE_ORDER.findIndex((g) => g.id === id);
    if (best === null || i < best) best = i;
  }
  return best === null ? null : GATE_ORDER[best]!.id;
}

interface FamilyGrade {
  grade: Grade;
  why: WhyNotHigher[];
}

/** Per family over all its targets: Fail / Poor / Good / Great / Excellent, with what held it down. */
export function gradeFamily(family: Family, all: readonly TargetResult[], findings: readonly Finding[], tested = true): FamilyGrade {
  const name = FAMILY_NAME[family];
  const targets = all.filter((t) => t.family === family);
  const why = (check: string, text: string): WhyNotHigher => ({ check, text: `${name}: ${text}`, family });
  if (!tested) return { grade: 'Fail', why: [why('DNS-1', `not tested in this run (use --family both to grade ${name}).`)] };
  if (targets.length === 0) {
    return {
      grade: 'Fail',
      why: [why('DNS-1', `nothing is published for ${name} (no ${family === 'ipv4' ? 'A' : 'AAAA'} record or ${name} literal in any URI); add one and make coturn listen on it (\`listening-ip\`) to get an ${name} grade.`)],
    };
  }
  const s = targets.some(stunOk);
  const r = targets.some(turnOk);
  const out: WhyNotHigher[] = [];
  const stunTargets = targets.filter((t) => stunApplies(t));
  const turnTargets = targets.filter((t) => turnApplies(t));
  const secureTargets = targets.filter((t) => t.scheme === 'turns' && t.transport === 'tls');
  const t443 = secureTargets.filter((t) => Number(t.port) === 443);

  const stunHeld = firstFailureAmong(stunTargets, findings);
  const turnHeld = firstFailureAmong(turnTargets, findings);
  const because = (held: CheckId | null): string => (held ? ` (first failure: ${held})` : '');
  if (!s && !r && stunTargets.length > 0 && stunHeld !== null && stunHeld === turnHeld) {
    // One cause (e.g. the port is filtered) stops both: say it once.
    out.push(why(stunHeld, `neither STUN nor TURN works${because(stunHeld)}; fix it first.`));
  } else {
    if (!s) {
      out.push(
        stunTargets.length === 0
          ? why('ADV-1', 'no stun: or turn: UDP URI is advertised, so STUN cannot work; add `turn:HOST?transport=udp` (coturn answers STUN on 3478/udp).')
          : why(stunHeld ?? 'STUN-1', `no STUN answer over UDP${because(stunHeld)}; fix it to make STUN work.`),
      );
    }
    if (!r) {
      out.push(
        turnTargets.length === 0
          ? why('ADV-1', 'no turn:/turns: URI is advertised; add TURN URIs to homeserver.yaml `turn_uris`.')
          : why(turnHeld ?? 'DATA-1', `no TURN relay works${because(turnHeld)}; a relay must allocate and pass data both ways.`),
      );
    }
  }
  let grade: Grade;
  if (!s && !r) grade = 'Fail';
  else if (!s || !r) grade = 'Poor';
  else grade = 'Good';

  const secure = targets.some(secureTurnOk);
  const basicsWork = grade === 'Good';
  if (!secure && basicsWork) {
    const held = firstFailureAmong(secureTargets, findings);
    out.push(
      secureTargets.length === 0
        ? why('ALLOC-3', 'no TURN over TLS is advertised; add a `turns:` URI (coturn `tls-listening-port` with `cert`/`pkey`) to lift to Great.')
        : why(held ?? 'ALLOC-3', `no TURN over TLS works${held ? ` (first failure: ${held})` : ''}; fix it to lift to Great.`),
    );
  } else if (grade === 'Good') grade = 'Great';

  if (!targets.some(turns443Ok) && basicsWork) {
    const held = firstFailureAmong(t443, findings);
    out.push(
      t443.length === 0
        ? why('ALLOC-3', 'no `turns:` service on TCP port 443; add `turns:HOST:443?transport=tcp` (coturn `tls-listening-port=443` on its own IP) to lift to Excellent: strict firewalls often pass only 443.')
        : why(held ?? 'ALLOC-3', `\`turns:\` on port 443 does not work${held ? ` (first failure: ${held})` : ''}; fix it to lift to Excellent.`),
    );
  } else if (grade === 'Great') grade = 'Excellent';

  return { grade, why: grade === 'Excellent' ? [] : out };
}

function isSecurity(f: Finding): boolean {
  return (SECURITY_CHECKS as readonly string[]).includes(f.id);
}

export function securityVerdict(findings: readonly Finding[]): SecuritySummary {
  const bad = findings.filter((f) => isSecurity(f) && (f.status === 'warn' || f.status === 'fail'));
  const critical = bad.some((f) => f.status === 'fail' && f.severity === 'critical');
  const ids = [...new Set(bad.map((f) => f.id))];
  return { verdict: critical ? 'unsafe' : bad.length > 0 ? 'warn' : 'ok', findings: ids };
}

export interface ScoreOptions {
  /** Families the run tested (default both). */
  families?: readonly Family[];
}

export function score(targets: readonly TargetResult[], findings: readonly Finding[], opts: ScoreOptions = {}): ScoreResult {
  const families = opts.families ?? ['ipv4', 'ipv6'];
  const v4 = gradeFamily('ipv4', targets, findings, families.includes('ipv4'));
  const v6 = gradeFamily('ipv6', targets, findings, families.includes('ipv6'));
  const security = securityVerdict(findings);
  // Overall is the IPv4 grade; a run told to test IPv6 only is judged on IPv6.
  let overall = families.includes('ipv4') ? v4.grade : v6.grade;
  const why = [...v4.why, ...v6.why];
  if (security.verdict === 'unsafe') {
    const culprit = findings.find((f) => isSecurity(f) && f.status === 'fail' && f.severity === 'critical')!;
    if (GRADE_RANK[overall] > GRADE_RANK.Poor) overall = 'Poor';
    why.unshift({ check: culprit.id, text: `a critical security finding (${culprit.id}) caps the overall grade at Poor; fix it first.`, family: null });
  }
  return {
    grade: { ipv4: v4.grade, ipv6: v6.grade, overall, whyNotHigher: why },
    security,
    targets: targets.map((t) => ({ grade: gradeTarget(t), firstFailure: firstFailure(t, findings) })),
  };
}

/** The MatrixRTC grade of a run: the worst of its transports (CHECKS.md "MatrixRTC grade"); undefined without any. */
export function rtcGrade(transports: readonly { grade: Grade }[]): Grade | undefined {
  if (transports.length === 0) return undefined;
  return transports.reduce<Grade>((worst, t) => (GRADE_RANK[t.grade] < GRADE_RANK[worst] ? t.grade : worst), 'Excellent');
}

const RTC_WHY: Record<Exclude<Grade, 'Excellent'>, { check: string; text: string }> = {
  Fail: { check: 'RTC-3', text: 'MatrixRTC: no LiveKit token or no signalling; Element Call and Element X calls cannot start (see RTC-2..RTC-5).' },
  Poor: { check: 'RTC-7', text: 'MatrixRTC: signalling works but no media path reaches the SFU ("Waiting for media"); see RTC-7.' },
  Good: { check: 'RTC-7', text: 'MatrixRTC: media works over one path only; make UDP and a fallback (ICE/TCP or LiveKit\'s TURN) work to lift to Great.' },
  Great: { check: 'RTC-6', text: 'MatrixRTC: no TURN over TLS on 443 carries media; forward 443 to LiveKit\'s `turn.tls_port` to lift to Excellent.' },
};

/** whyNotHigher entries for an RTC grade below Excellent. */
export function rtcWhyNotHigher(grade: Grade | undefined): WhyNotHigher[] {
  if (!grade || grade === 'Excellent') return [];
  return [{ ...RTC_WHY[grade], family: null }];
}
