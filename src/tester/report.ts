// The report model: the one object JSON, Matrix messages, the terminal and the
// history store are all made from (ARCHITECTURE.md "The JSON report (schema
// version 1)"). Built from measured target results and findings; everything
// free-form passes through `redact` so no password, secret or token survives.
import { CHECK_IDS, type CheckId } from './checks';
import type { BrowserResults } from './report-browser';
import type { RtcTransportReport } from './rtc/index';
import { rtcGrade, rtcWhyNotHigher, score, type GradeSummary, type SecuritySummary, type UriGrade } from './score';
import { Secret } from './secret';
import type { Family, Finding, Grade, QualityResult, Severity, SourceKind, Status, TargetResult, TimingsMs, Transport } from './types';

export const REPORT_SCHEMA = 1 as const;
export const TOOL_NAME = 'mx-voiptest' as const;

export interface ReportUri {
  uri: string;
  transport: Transport;
  family: Family;
  /** "ip:port" ("[v6]:port"), or null when the name did not resolve. */
  address: string | null;
  grade: UriGrade;
  firstFailure: CheckId | null;
  relayedAddress: string | null;
  timingsMs: TimingsMs;
}

/** A finding as it stands in the JSON report (schema 1): the same fields, `cause` extra to the schema. */
export type ReportCheck = Finding;

/** Quality results go into the report as measured (QualityResult in types.ts). */
export type ReportQuality = QualityResult;

export type { BrowserResults, BrowserUriResult, BrowserUriPosted, BrowserDataChannel, BrowserIceError, CandidateCounts, PairEnd, PeerSide } from './report-browser';

export interface Report {
  schema: typeof REPORT_SCHEMA;
  tool: { name: typeof TOOL_NAME; version: string };
  startedAt: string;
  durationMs: number;
  source: { kind: SourceKind; homeserver?: string; xmpp?: string };
  grade: GradeSummary;
  security: SecuritySummary;
  uris: ReportUri[];
  checks: ReportCheck[];
  quality: ReportQuality[];
  /** What the browser helper measured from the user's network (optional, beside schema 1). */
  browser?: BrowserResults;
  /** MatrixRTC transports tested (schema 1, optional): absent when the run had no RTC part. */
  rtc?: ReportRtc[];
}

/** One MatrixRTC transport in the report (ARCHITECTURE.md JSON additions). */
export interface ReportRtc {
  serviceUrl: string;
  sfuUrl: string | null;
  grade: Grade;
  iceServers: string[];
  paths: { udp: boolean; tcp: boolean; relay: boolean };
}

export interface BuildReportInput {
  startedAt: Date;
  durationMs: number;
  source: { kind: SourceKind; homeserver?: string; xmpp?: string };
  targets: readonly TargetResult[];
  findings: readonly Finding[];
  quality: readonly QualityResult[];
  toolVersion: string;
  /** Families the run tested (default both); an untested family is said to be untested. */
  families?: readonly Family[];
  /** MatrixRTC transports (rtc/index.ts). */
  rtc?: readonly RtcTransportReport[];
}

// ---- redaction -------------------------------------------------------------

/** Keys whose values never leave the engine, whatever they hold. */
const SENSITIVE_KEY = /^(password|passwd|pass|secret|token|accesstoken|access_token|sharedsecret|shared_secret|credential|authorization)$|(password|secret|token)$/i;
const MAX_DEPTH = 8;
const MAX_STRING = 2000;

/** "turn:user:pass@host" -> "turn:[redacted]@host" anywhere in a string. */
function scrubString(s: string): string {
  const cut = s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…` : s;
  return cut.replace(/\b((?:stuns?|turns?|https?):(?:\/\/)?)[^\s@/?#]+@/gi, '$1[redacted]@');
}

function redactValue(v: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (v instanceof Secret) return undefined;
  if (v === null) return null;
  switch (typeof v) {
    case 'string':
      return scrubString(v);
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'boolean':
      return v;
    case 'bigint':
      return v.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (depth >= MAX_DEPTH) return '[too deep]';
  const o = v as object;
  if (seen.has(o)) return '[circular]';
  seen.add(o);
  try {
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (v instanceof Error) return scrubString(v.message);
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `[${(v as ArrayBuffer).byteLength} bytes]`;
    if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1, seen) ?? null);
    if (v instanceof Map) return redactRecord(Object.fromEntries(v), depth + 1, seen);
    if (v instanceof Set) return [...v].map((x) => redactValue(x, depth + 1, seen) ?? null);
    return redactRecord(o as Record<string, unknown>, depth + 1, seen);
  } finally {
    seen.delete(o);
  }
}

function redactRecord(o: Record<string, unknown>, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(o)) {
    if (SENSITIVE_KEY.test(k)) continue;
    const r = redactValue(val, depth, seen);
    if (r !== undefined) out[k] = r;
  }
  return out;
}

/** A copy of free-form data without passwords, secrets, tokens or Secret values; JSON-safe. */
export function redact(data: Record<string, unknown>): Record<string, unknown> {
  if (data === null || typeof data !== 'object') return {};
  return redactRecord(data, 0, new WeakSet());
}

function redactText(s: string): string;
function redactText(s: string | null): string | null;
function redactText(s: string | null): string | null {
  return s === null ? null : scrubString(String(s));
}

// ---- building -------------------------------------------------------------

const CATALOGUE_INDEX = new Map<string, number>(CHECK_IDS.map((id, i) => [id, i]));
const STATUS_ORDER: Record<Status, number> = { fail: 0, warn: 1, info: 2, pass: 3, skip: 4 };

function compareChecks(a: ReportCheck, b: ReportCheck): number {
  return (CATALOGUE_INDEX.get(a.id) ?? 999) - (CATALOGUE_INDEX.get(b.id) ?? 999);
}

function toCheck(f: Finding): ReportCheck {
  return {
    id: f.id,
    uri: redactText(f.uri ?? null),
    family: f.family ?? null,
    status: f.status,
    severity: f.severity ?? null,
    summary: redactText(f.summary ?? ''),
    evidence: redact(f.evidence ?? {}),
    hint: redactText(f.hint ?? null),
    ...(f.cause ? { cause: f.cause } : {}),
    ...(f.scope ? { scope: f.scope } : {}),
    ...(f.rtc ? { rtc: redactText(f.rtc) } : {}),
    ...(f.path ? { path: f.path } : {}),
    ...(f.tag ? { tag: Object.fromEntries(Object.entries(f.tag).map(([k, v]) => [k, scrubString(String(v))])) } : {}),
  };
}

function formatAddress(address: string | null, port: number): string | null {
  if (!address) return null;
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address; // already ip:port
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function toQuality(q: QualityResult): ReportQuality {
  const rest = redact(q as Record<string, unknown>);
  return {
    ...rest,
    uri: redactText(q.uri),
    family: q.family,
    rttMs: { p50: q.rttMs?.p50 ?? 0, p95: q.rttMs?.p95 ?? 0 },
    jitterMs: q.jitterMs ?? 0,
    lossPct: { up: q.lossPct?.up ?? 0, down: q.lossPct?.down ?? 0 },
    goodputKbps: q.goodputKbps ?? 0,
  };
}

export function buildReport(input: BuildReportInput): Report {
  const scored = score(input.targets, input.findings, { families: input.families });
  const uris: ReportUri[] = input.targets.map((t, i) => ({
    uri: redactText(t.uri),
    transport: t.transport,
    family: t.family,
    address: formatAddress(t.address, t.port),
    grade: scored.targets[i]!.grade,
    firstFailure: scored.targets[i]!.firstFailure,
    relayedAddress: t.relayedAddress,
    timingsMs: { ...t.timingsMs },
  }));
  // Stable sort: within one id the probes' order (URI order) is kept.
  const checks = input.findings.map(toCheck).sort(compareChecks);
  const startedAt = Number.isNaN(input.startedAt.getTime()) ? new Date(0) : input.startedAt;
  const rtc: ReportRtc[] = (input.rtc ?? []).map((t) => ({ serviceUrl: redactText(t.serviceUrl), sfuUrl: redactText(t.sfuUrl), grade: t.grade, iceServers: t.iceServers.map((u) => redactText(u)), paths: { ...t.paths } }));
  // Forced (--rtc) and nothing advertised: the MatrixRTC path is graded Fail, not left out.
  const rg = rtcGrade(rtc) ?? (input.findings.some((f) => f.id === 'RTC-1' && f.status === 'fail') ? 'Fail' : undefined);
  const grade: GradeSummary = rg ? { ...scored.grade, rtc: rg, whyNotHigher: [...scored.grade.whyNotHigher, ...rtcWhyNotHigher(rg)] } : scored.grade;
  return {
    schema: REPORT_SCHEMA,
    tool: { name: TOOL_NAME, version: input.toolVersion },
    startedAt: startedAt.toISOString(),
    durationMs: Math.max(0, Math.round(input.durationMs)),
    source: input.source.homeserver ? { kind: input.source.kind, homeserver: input.source.homeserver } : input.source.xmpp ? { kind: input.source.kind, xmpp: input.source.xmpp } : { kind: input.source.kind },
    grade,
    security: scored.security,
    uris,
    checks,
    quality: input.quality.map(toQuality),
    ...(rtc.length > 0 ? { rtc } : {}),
  };
}

/** Findings most worth an admin's attention first: fail before warn, by severity, catalogue order. */
export function rankProblems(checks: readonly ReportCheck[]): ReportCheck[] {
  const sev: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
  return checks
    .filter((c) => c.status === 'fail' || c.status === 'warn')
    .slice()
    .sort(
      (a, b) =>
        STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
        (a.severity ? sev[a.severity] : 4) - (b.severity ? sev[b.severity] : 4) ||
        compareChecks(a, b),
    );
}

export function toJson(report: Report, pretty = true): string {
  return JSON.stringify(report, null, pretty ? 2 : undefined);
}
