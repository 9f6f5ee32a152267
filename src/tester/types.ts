// Shared vocabulary of the engine. Everything that crosses a module boundary
// (probes -> findings -> score -> report -> renderers) is typed here.
import type { CheckId } from './checks';

export type Status = 'pass' | 'warn' | 'fail' | 'skip' | 'info';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type Family = 'ipv4' | 'ipv6';
export type Transport = 'udp' | 'tcp' | 'tls';
export type Scheme = 'stun' | 'turn' | 'turns';
export type Grade = 'Excellent' | 'Great' | 'Good' | 'Poor' | 'Fail';

/** The one grade order: higher is better (also the value of the mxv_grade metric). */
export const GRADE_RANK: Readonly<Record<Grade, number>> = { Excellent: 4, Great: 3, Good: 2, Poor: 1, Fail: 0 };
export type SourceKind = 'homeserver' | 'secret' | 'explicit' | 'shared' | 'xmpp';

/** A parsed stun:/turn:/turns: URI (RFC 7064 / 7065). */
export interface IceUri {
  /** The URI exactly as it was given (never contains credentials). */
  raw: string;
  scheme: Scheme;
  /** Host name or IP literal, without brackets. */
  host: string;
  port: number;
  /** Transport actually used: explicit ?transport=, else udp for stun:/turn:, tls for turns:. */
  transport: Transport;
  /** True when ?transport= was present in the URI. */
  transportExplicit: boolean;
  /** 4 or 6 when host is an IP literal, 0 for a name. */
  ipLiteral: 0 | 4 | 6;
}

/** One finding, as CHECKS.md defines. */
export interface Finding {
  id: CheckId;
  /** Scope: null for run-scoped checks. */
  uri: string | null;
  family: Family | null;
  status: Status;
  severity: Severity | null;
  summary: string;
  evidence: Record<string, unknown>;
  /** Machine-readable cause key; the hint is looked up by (id, cause). */
  cause?: string;
  hint: string | null;
  /** MatrixRTC findings: scope 'rtc' and the livekit_service_url they are about. */
  scope?: 'rtc';
  rtc?: string;
  /** RTC-7: the ICE path the finding is about. */
  path?: RtcPath;
  /** Extra scope of a finding from a nested TURN run, e.g. { scope: 'rtc', rtc: '<livekit_service_url>' } (RTC-6). */
  tag?: Record<string, string>;
}

export type RtcPath = 'udp' | 'tcp' | 'relay';

/** One (URI, family, resolved address) target of the plan. */
export interface Target {
  uri: IceUri;
  family: Family;
  address: string;
}

export interface TimingsMs {
  dns?: number;
  connect?: number;
  tls?: number;
  allocate?: number;
  data?: number;
}

/** What the probes measured for one target; the scorer reads only this and findings. */
export interface TargetResult {
  uri: string;
  scheme: Scheme;
  transport: Transport;
  family: Family;
  port: number;
  address: string | null;
  /** STUN Binding answered (only counted as STUN support on plain UDP). */
  stunWorks: boolean;
  /** Allocation succeeded and relayed data came back (DATA-1 pass). */
  turnWorks: boolean;
  relayedAddress: string | null;
  timingsMs: TimingsMs;
}

export interface QualityResult {
  uri: string;
  family: Family;
  rttMs: { p50: number; p95: number };
  jitterMs: number;
  lossPct: { up: number; down: number };
  goodputKbps: number;
  [extra: string]: unknown;
}
