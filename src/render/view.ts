// What every renderer shows, computed once: the headline, the problems worth
// fixing first (one entry per distinct fix, with the servers it applies to),
// one row per server for the summary table (grades that agree with the
// verdict above them), and the checks grouped by server and by the family
// they are about. Renderers only format this.
import { CHECKS, type CheckId } from '../tester/checks';
import { classifyAddress, hostOf } from '../tester/guard';
import { GRADE_RANK } from '../tester/score';
import { rankProblems, type Report, type ReportCheck, type ReportUri } from '../tester/report';
import type { Family, Grade, Status } from '../tester/types';
import { formatMs } from './format';

export const FAMILY_LABEL: Record<Family, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };
export const STATUS_LABEL: Record<Status, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP', info: 'INFO' };
export const STATUS_ICON: Record<Status, string> = { pass: '✅', warn: '⚠️', fail: '❌', skip: '⏭️', info: 'ℹ️' };
export const VERDICT_ICON = { ok: '✅', warn: '⚠️', unsafe: '⛔' } as const;

export function checkTitle(id: string): string {
  return (CHECKS as Record<string, { title: string }>)[id]?.title ?? id;
}

// ---- families: the one a check is about -----------------------------------

/** The relay family a check tested, when it differs from how we reached the server (ACL-x on an IPv6 relay, ALLOC-2). */
export function relayFamilyOf(c: ReportCheck): Family | null {
  const rf = (c.evidence as { relayFamily?: unknown } | undefined)?.relayFamily;
  if (rf === 'ipv4' || rf === 'ipv6') return rf;
  return c.id === 'ALLOC-2' ? 'ipv6' : null;
}

/** "IPv4", "IPv6 relay", or null for a check about the whole server (DNS, quota). */
function aboutLabel(c: ReportCheck): string | null {
  const relay = relayFamilyOf(c);
  if (relay && relay !== c.family) return `${FAMILY_LABEL[relay]} relay`;
  return c.family ? FAMILY_LABEL[c.family] : null;
}

// ---- texts that must agree with each other ---------------------------------

/**
 * A finding's summary as shown. One correction on the engine's words: a
 * relayed address in a special range passes ALLOC-1 only because the run was
 * told to treat that range as public; say so instead of calling it public.
 */
export function displaySummary(c: ReportCheck): string {
  if (c.id === 'ALLOC-1' && c.status === 'pass') {
    const relayed = (c.evidence as { relayedAddress?: unknown }).relayedAddress;
    if (typeof relayed === 'string') {
      const cls = classifyAddress(hostOf(relayed));
      if (cls.special) return `The relayed address ${relayed} is ${cls.label}, treated as public by the lab setting --assume-public (engine.assumePublic).`;
    }
  }
  return c.summary;
}

// ---- fix first --------------------------------------------------------------

export interface Problem {
  /** The check ids this fix answers (usually one). */
  ids: CheckId[];
  id: CheckId;
  title: string;
  status: Status;
  severity: ReportCheck['severity'];
  /** One instance's summary (the IPv4 one when there is one). */
  summary: string;
  hint: string | null;
  /** How many findings this entry stands for. */
  count: number;
  /** One entry per server: "turn:... (IPv4, IPv6 relay)"; empty for run-wide checks. */
  where: string[];
}

const LABEL_ORDER = ['IPv4', 'IPv6 relay', 'IPv6', 'IPv4 relay'];

interface ProblemAcc extends Problem {
  scopes: Map<string, string[]>;
  /** The instance whose words are shown: the first IPv4 one when there is one (the overall grade is the IPv4 grade). */
  shown: ReportCheck;
}

const isIpv4Connection = (c: ReportCheck): boolean => c.family === 'ipv4' && (relayFamilyOf(c) ?? 'ipv4') === 'ipv4';

/** Servers with the same families share one entry: "turn:a, turn:b (IPv4, IPv6 relay)". */
function whereOf(scopes: Map<string, string[]>): string[] {
  const byLabels = new Map<string, string[]>();
  for (const [uri, labels] of scopes) byLabels.set(labels.join(', '), [...(byLabels.get(labels.join(', ')) ?? []), uri]);
  return [...byLabels].map(([labels, uris]) => (labels ? `${uris.join(', ')} (${labels})` : uris.join(', ')));
}

/** Every distinct problem, ranked: one entry per fix (same hint = same entry), with the servers it applies to. */
export function allProblems(report: Report): Problem[] {
  const out: ProblemAcc[] = [];
  const byKey = new Map<string, ProblemAcc>();
  for (const c of rankProblems(report.checks)) {
    const key = c.hint ? `hint\u0000${c.hint}` : `id\u0000${c.id}\u0000${c.cause ?? ''}\u0000${c.status}`;
    let p = byKey.get(key);
    if (!p) {
      p = { ids: [c.id], id: c.id, title: checkTitle(c.id), status: c.status, severity: c.severity, summary: '', hint: c.hint, count: 0, where: [], scopes: new Map(), shown: c };
      byKey.set(key, p);
      out.push(p);
    } else if (!p.ids.includes(c.id)) p.ids.push(c.id);
    if (c.id === p.id && !isIpv4Connection(p.shown) && isIpv4Connection(c)) p.shown = c;
    p.count += 1;
    // MatrixRTC findings are about a transport (its livekit_service_url) unless they name an ICE server.
    const about = c.uri ?? (c.scope === 'rtc' && c.rtc ? `MatrixRTC ${c.rtc}` : null);
    if (about !== null) {
      const labels = p.scopes.get(about) ?? [];
      const label = aboutLabel(c);
      if (label && !labels.includes(label)) labels.push(label);
      labels.sort((a, b) => LABEL_ORDER.indexOf(a) - LABEL_ORDER.indexOf(b));
      p.scopes.set(about, labels);
    }
  }
  return out.map(({ scopes, shown, ...p }) => ({ ...p, summary: displaySummary(shown), where: whereOf(scopes) }));
}

/** The problems to show first, at most `limit`. */
export function topProblems(report: Report, limit = 5): Problem[] {
  return allProblems(report).slice(0, limit);
}

/** The 1-based number of the "fix first" entry that covers this finding, or null. */
export function fixNumber(problems: readonly Problem[], c: ReportCheck): number | null {
  const i = problems.findIndex((p) => (c.hint ? p.hint === c.hint : p.ids.includes(c.id) && p.hint === null));
  return i < 0 ? null : i + 1;
}

// ---- summary texts --------------------------------------------------------------

/** At most this many fixes in the summary (the rest are in the thread). */
export const FIX_LIMIT = 5;
/** At most this many servers named after one fix in the summary. */
const WHERE_LIMIT = 3;

/**
 * False for a MatrixRTC-only run (--only rtc): no TURN URI and no finding outside the MatrixRTC part,
 * so its TURN family grades (Fail, "nothing published") say nothing and are not shown.
 */
export function turnTested(r: Report): boolean {
  return !(r.rtc !== undefined && r.uris.length === 0 && r.checks.every(isRtc));
}

/** The overall grade as shown: a MatrixRTC-only run's is its MatrixRTC grade (there is no TURN grade). */
export function shownOverall(r: Report): Grade {
  return !turnTested(r) && r.grade.rtc ? r.grade.rtc : r.grade.overall;
}

/** The verdict line's grades: IPv4 and IPv6 (when the run tested TURN) and MatrixRTC (when it has that part). */
export function gradeParts(r: Report): { label: string; grade: string; raw: Grade }[] {
  return [
    ...(turnTested(r) ? (['ipv4', 'ipv6'] as const).map((f) => ({ label: FAMILY_LABEL[f], grade: familyGrade(r, f), raw: r.grade[f] })) : []),
    ...(r.grade.rtc ? [{ label: 'MatrixRTC', grade: rtcGradeLabel(r)!, raw: r.grade.rtc }] : []),
  ];
}

/** "not tested" for a family the run did not test; "Good, capped at Poor by ACL-1" when a critical finding caps it; else the grade. */
export function familyGrade(r: Report, family: Family): string {
  const tested = r.uris.some((u) => u.family === family);
  const untested = r.grade.whyNotHigher.some((w) => w.text.startsWith(`${FAMILY_LABEL[family]}: not tested`));
  if (!tested && untested) return 'not tested';
  return cappedBy(r.grade[family], criticalIds(r, (c) => !isRtc(c) && (c.family === null || c.family === family)));
}

/** The MatrixRTC grade as shown: capped by a critical finding of the MatrixRTC part (e.g. LiveKit's TURN relays to loopback). */
export function rtcGradeLabel(r: Report): string | null {
  return r.grade.rtc ? cappedBy(r.grade.rtc, criticalIds(r, isRtc)) : null;
}

function criticalIds(r: Report, which: (c: ReportCheck) => boolean): string[] {
  return [...new Set(r.checks.filter((c) => c.status === 'fail' && c.severity === 'critical' && which(c)).map((c) => c.id))];
}

function cappedBy(g: Grade, critical: string[]): string {
  return critical.length && GRADE_RANK[g] > GRADE_RANK.Poor ? `${g}, capped at Poor by ${critical.join(', ')}` : g;
}

export function whereText(p: Problem, limit = WHERE_LIMIT): string {
  if (p.where.length === 0) return '';
  const shown = p.where.slice(0, limit).join('; ');
  return p.where.length > limit ? `${shown}; and ${p.where.length - limit} more` : shown;
}

/**
 * "Why not higher" as shown: each text once, without the entries that only
 * point at a fix the summary already lists ("...; fix it first") or repeat
 * the verdict line's "not tested".
 */
export function whyNotHigher(r: Report, shown: readonly Problem[]): string[] {
  const fixed = new Set(shown.flatMap((p) => p.ids));
  // "IPv6: not tested" is already said by the verdict line ("IPv6 not tested").
  const untested = (['ipv4', 'ipv6'] as const).filter((f) => familyGrade(r, f) === 'not tested').map((f) => `${FAMILY_LABEL[f]}: not tested`);
  const turn = turnTested(r);
  const texts = r.grade.whyNotHigher
    .filter((w) => !(fixed.has(w.check as CheckId) && /fix it first\.?$/.test(w.text)) && !untested.some((u) => w.text.startsWith(u)))
    .filter((w) => turn || !(w.family === 'ipv4' || w.family === 'ipv6'))
    .map((w) => w.text);
  return [...new Set(texts)];
}

// ---- the summary's server table ------------------------------------------------

export interface ServerRow {
  uri: string;
  /** Per family: the grade as shown (capped at Poor by a critical security finding on this server), null when untested. */
  grade: Record<Family, Grade | null>;
  /** The problem that matters most on this server, or null when none. */
  problem: { id: CheckId; status: Status; critical: boolean; fix: number | null; more: number } | null;
}

const capped = (g: Grade, cap: boolean): Grade => (cap && GRADE_RANK[g] > GRADE_RANK.Poor ? 'Poor' : g);

/** One row per server (URI), in the report's order. */
export function serverRows(report: Report, problems: readonly Problem[] = allProblems(report)): ServerRow[] {
  return serverOrder(report).map((uri) => {
    const targets = report.uris.filter((u) => u.uri === uri);
    const ranked = rankProblems(report.checks.filter((c) => c.uri === uri && !isRtc(c)));
    const critical = ranked.some((c) => c.status === 'fail' && c.severity === 'critical');
    const grade: Record<Family, Grade | null> = { ipv4: null, ipv6: null };
    for (const t of targets) grade[t.family] = capped(t.grade, critical);
    const first = targets.map((t) => t.firstFailure).find((f): f is CheckId => f !== null);
    const top = (first && ranked.find((c) => c.id === first && c.status === 'fail')) || ranked[0];
    const distinct = new Set(ranked.map((c) => fixNumber(problems, c) ?? c.id));
    return {
      uri,
      grade,
      problem: top
        ? { id: top.id, status: top.status, critical: top.status === 'fail' && top.severity === 'critical', fix: fixNumber(problems, top), more: Math.max(0, distinct.size - 1) }
        : null,
    };
  });
}

// ---- details: per server, per family ----------------------------------------

export interface CheckGroup {
  /** What the checks are about: "IPv4 198.51.100.7:3478", "IPv6 relay", "Every address". */
  heading: string;
  /** The address this group's checks reached (connection groups only). */
  target: ReportUri | null;
  checks: ReportCheck[];
}

/** A titled block of Markdown (a details section, one thread reply). */
export interface MarkdownSection {
  /** Plain text title (renderers escape it). */
  title: string;
  body: string;
}

export interface ServerSection {
  uri: string;
  targets: ReportUri[];
  groups: CheckGroup[];
}

function serverOrder(report: Report): string[] {
  const order: string[] = [];
  for (const u of report.uris) if (!order.includes(u.uri)) order.push(u.uri);
  for (const c of report.checks) if (c.uri !== null && !isRtc(c) && !order.includes(c.uri)) order.push(c.uri);
  return order;
}

/** A MatrixRTC finding (shown in the MatrixRTC section, not under the TURN servers). */
export function isRtc(c: ReportCheck): boolean {
  return c.scope === 'rtc';
}

export interface RtcSection {
  /** "MatrixRTC discovery" or "MatrixRTC <livekit_service_url>". */
  title: string;
  grade: Grade | null;
  checks: ReportCheck[];
}

/** The MatrixRTC part: discovery (RTC-1, RTC-4), then each LiveKit transport with its grade and checks (LiveKit's TURN included). */
export function rtcSections(report: Report): RtcSection[] {
  const rtc = report.checks.filter(isRtc);
  if (rtc.length === 0) return [];
  const out: RtcSection[] = [];
  const session = rtc.filter((c) => !c.rtc);
  if (session.length) out.push({ title: 'MatrixRTC discovery', grade: null, checks: session });
  for (const t of report.rtc ?? []) {
    out.push({ title: `MatrixRTC ${t.serviceUrl}${t.sfuUrl ? ` (SFU ${t.sfuUrl})` : ''}`, grade: t.grade, checks: rtc.filter((c) => c.rtc === t.serviceUrl) });
  }
  return out;
}

const GROUP_ORDER = ['server', 'conn:ipv4', 'relay:ipv6', 'conn:ipv6', 'relay:ipv4'];

/** Checks grouped by server (URI), then by what they are about: the whole server, each connection family, each other relay family. */
export function serverSections(report: Report): ServerSection[] {
  return serverOrder(report).map((uri) => {
    const targets = report.uris.filter((u) => u.uri === uri);
    const groups = new Map<string, CheckGroup>();
    for (const c of report.checks.filter((x) => x.uri === uri && !isRtc(x))) {
      const relay = relayFamilyOf(c);
      let key: string;
      let heading: string;
      let target: ReportUri | null = null;
      if (relay && relay !== c.family) {
        key = `relay:${relay}`;
        heading = `${FAMILY_LABEL[relay]} relay${c.family ? ` (allocated over ${FAMILY_LABEL[c.family]})` : ''}`;
      } else if (c.family) {
        key = `conn:${c.family}`;
        target = targets.find((t) => t.family === c.family) ?? null;
        heading = `${FAMILY_LABEL[c.family]}${target?.address ? ` ${target.address}` : ''}`;
      } else {
        key = 'server';
        heading = 'Every address';
      }
      const g = groups.get(key) ?? { heading, target, checks: [] };
      g.checks.push(c);
      groups.set(key, g);
    }
    const sorted = [...groups].sort((a, b) => GROUP_ORDER.indexOf(a[0]) - GROUP_ORDER.indexOf(b[0])).map(([, g]) => g);
    return { uri, targets, groups: sorted };
  });
}

export function runChecks(report: Report): ReportCheck[] {
  return report.checks.filter((c) => c.uri === null && !isRtc(c));
}

export function sourceLabel(report: Report): string {
  return report.source.homeserver ?? (report.source.xmpp ? `XMPP ${report.source.xmpp}` : `${report.source.kind} credentials`);
}

/** "dns 0 ms, connect 52 ms, allocate 1.1 ms" (rounded). */
export function timingsLabel(t: ReportUri['timingsMs']): string {
  return (['dns', 'connect', 'tls', 'allocate', 'data'] as const)
    .map((k) => [k, formatMs(t[k])] as const)
    .filter((x): x is readonly [typeof x[0], string] => x[1] !== null)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
