// Options of one engine run; the CLI flags and the bot config both map onto this.
import type { CheckId } from './checks';
import type { CredentialSpec } from './credentials/types';
import { MAX_CONCURRENT_ALLOCATIONS } from './plan';
import type { Lookup } from './probes/dns';
import type { RtcOptions } from './rtc/context';

export type FamilyOption = 'ipv4' | 'ipv6' | 'both';
export type QualityProfile = 'off' | 'audio' | 'video';

export interface CheckOptions {
  credentials: CredentialSpec;
  family: FamilyOption;
  /** Run just these checks (and what they need). */
  only?: CheckId[];
  /** Lab use: permit loopback/private/special targets. */
  allowPrivate: boolean;
  /** Lab use: CIDRs whose relayed addresses count as public. */
  assumePublic: string[];
  /** Extra trusted CA certificates (PEM) for turns:. */
  ca?: string[];
  quality: QualityProfile;
  /** Overall deadline of the run. */
  timeoutMs: number;
  /** Run the in-process WebRTC check (E2E-1). */
  e2e: boolean;
  /** The realm the TURN servers should announce (AUTH-5 warns when it differs); unset: the realm is only reported. */
  expectedRealm?: string;
  /**
   * Allocations held at once by this run (CHECKS.md safety rule: 3). An admin who
   * knows the TURN user quota may raise it to run quality windows in parallel.
   */
  maxAllocations?: number;
  /** Lab use: answer A/AAAA lookups for URI host names (scenario names in network namespaces); default: DNS. */
  lookup?: Lookup;
  /** MatrixRTC checks (homeserver sources): run when a transport is advertised, or forced; absent = discovery only. */
  rtc?: RtcOptions;
}

/**
 * The engine's defaults, in one place: the CLI (flags and --help), the bot's
 * config schema and the engine all read them from here.
 */
export const DEFAULT_CHECK_OPTIONS: Omit<CheckOptions, 'credentials'> & { maxAllocations: number } = {
  family: 'both',
  allowPrivate: false,
  assumePublic: [],
  quality: 'audio',
  timeoutMs: 20000,
  e2e: true,
  maxAllocations: MAX_CONCURRENT_ALLOCATIONS,
};

/** The most allocations at once an admin may allow (--max-allocations). */
export const MAX_ALLOCATIONS_LIMIT = 16;
