// The policy for targets that come from users (URIs shared through the browser
// helper, another homeserver's answer): never the admin's private-range
// allowance, only TURN ports (plus the ports the bot's own deployment uses), a
// bounded number of host:port targets per run and per user per day, hosts
// optionally within the requester's domain; and a report that says "not a
// TURN server" for whatever did not answer STUN/TURN, never open/refused/filtered.
import type { CheckId } from './checks';
import { checkTarget } from './guard';
import type { CheckOptions } from './options';
import { dnsLookup, type Lookup } from './probes/dns';
import type { Report, ReportCheck } from './report';
import type { Family } from './types';
import { formatHostPort, parseIceUri } from './uri';

export const DEFAULT_USER_PORTS: readonly number[] = [3478, 3479, 5349, 5350, 443, 80];

export interface UserTargetPolicy {
  /** Ports a user's URI may name. */
  ports: readonly number[];
  /** Distinct address:port targets one run may reach. */
  maxPerRun: number;
  /** Distinct address:port targets one user may have tested per UTC day. */
  maxPerUserPerDay: number;
  /** Hosts must be the requester's server name or under it (no IP literals). */
  sameDomain: boolean;
  /** Lab use: ranges user targets may be in besides public addresses. */
  allowRanges: readonly string[];
}

export const DEFAULT_USER_TARGET_POLICY: UserTargetPolicy = {
  ports: DEFAULT_USER_PORTS, maxPerRun: 12, maxPerUserPerDay: 36, sameDomain: false, allowRanges: [],
};

export class UserTargetRefused extends Error {
  constructor(readonly code: 'too-many-targets' | 'daily-limit' | 'no-usable-uri', message: string) {
    super(message);
    this.name = 'UserTargetRefused';
  }
}

/** Engine options for a run on user targets: the policy's ranges only, whatever the admin allows for their own runs. */
export function userEngineOptions<T extends Omit<CheckOptions, 'credentials'>>(base: T, policy: UserTargetPolicy): T {
  return { ...base, allowPrivate: false, assumePublic: [...policy.allowRanges] };
}

export interface BoundInput {
  uris: readonly string[];
  /** The requester's server name (from their Matrix id). */
  requesterDomain: string;
  policy: UserTargetPolicy;
  /** Ports the bot's own deployment advertises (allowed besides policy.ports). */
  ownPorts?: readonly number[];
  families: readonly Family[];
  lookup?: Lookup;
  /** Targets this user already had tested today (address:port), to charge only new ones. */
  usedToday: ReadonlySet<string>;
}

export interface Bounded {
  /** URIs that will be tested. */
  uris: string[];
  /** URIs left out, with why (safe to show: the user sent them). */
  skipped: { uri: string; why: string }[];
  /** Every address:port the run may reach. */
  targets: Set<string>;
}

function withinDomain(host: string, domain: string): boolean {
  const d = domain.replace(/:\d+$/, '').toLowerCase();
  return host === d || host.endsWith(`.${d}`);
}

/** Which of the shared URIs may be tested; refuses the run when it would reach too many targets. */
export async function boundUserTargets(i: BoundInput): Promise<Bounded> {
  const ports = new Set([...i.policy.ports, ...(i.ownPorts ?? [])]);
  const lookup = i.lookup ?? dnsLookup;
  const guard = { allowPrivate: false, assumePublic: i.policy.allowRanges };
  const uris: string[] = [];
  const skipped: Bounded['skipped'] = [];
  const targets = new Set<string>();
  const seen = new Set<string>();
  for (const raw of i.uris) {
    if (seen.has(raw)) continue;
    seen.add(raw);
    let u;
    try {
      u = parseIceUri(raw);
    } catch {
      skipped.push({ uri: raw, why: 'not a STUN/TURN URI' });
      continue;
    }
    if (!ports.has(u.port)) {
      skipped.push({ uri: raw, why: `port ${u.port} is not a TURN port this bot tests (${[...ports].sort((a, b) => a - b).join(', ')})` });
      continue;
    }
    if (i.policy.sameDomain && (u.ipLiteral || !withinDomain(u.host, i.requesterDomain))) {
      skipped.push({ uri: raw, why: `the host is not within ${i.requesterDomain}` });
      continue;
    }
    const addrs: string[] = [];
    if (u.ipLiteral) addrs.push(u.host);
    else {
      for (const rr of i.families.map((f) => (f === 'ipv4' ? 'A' : 'AAAA') as 'A' | 'AAAA')) addrs.push(...(await lookup(u.host, rr)).addrs);
    }
    const refused = addrs.find((a) => !checkTarget(a, guard).allowed);
    if (refused !== undefined) {
      skipped.push({ uri: raw, why: 'the host is not a public address' });
      continue;
    }
    // Unresolvable names cost nothing: DNS-1 reports them, no packet goes out.
    for (const a of addrs) targets.add(`${formatHostPort(a, u.port)}/${u.transport === 'udp' ? 'udp' : 'tcp'}`);
    uris.push(raw);
    if (targets.size > i.policy.maxPerRun) {
      throw new UserTargetRefused('too-many-targets', `These TURN URIs reach more than ${i.policy.maxPerRun} address:port targets; this bot tests at most ${i.policy.maxPerRun} per run (a homeserver normally advertises a handful).`);
    }
  }
  if (uris.length === 0) throw new UserTargetRefused('no-usable-uri', `None of the shared URIs can be tested here: ${skipped.slice(0, 3).map((s) => s.why).join('; ')}.`);
  const fresh = [...targets].filter((t) => !i.usedToday.has(t)).length;
  if (i.usedToday.size + fresh > i.policy.maxPerUserPerDay) {
    throw new UserTargetRefused('daily-limit', `You have reached today's limit of ${i.policy.maxPerUserPerDay} tested TURN addresses; try again tomorrow (UTC).`);
  }
  return { uris, skipped, targets };
}

/** Per user and UTC day, the address:port targets tested (bounded: old days are dropped). */
export class DailyTargets {
  private day = '';
  private readonly byUser = new Map<string, Set<string>>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  used(user: string): ReadonlySet<string> {
    this.roll();
    return this.byUser.get(user) ?? new Set();
  }

  charge(user: string, targets: Iterable<string>): void {
    this.roll();
    const s = this.byUser.get(user) ?? new Set<string>();
    for (const t of targets) s.add(t);
    this.byUser.set(user, s);
  }

  private roll(): void {
    const d = this.now().toISOString().slice(0, 10);
    if (d !== this.day) {
      this.day = d;
      this.byUser.clear();
    }
  }
}

/** Checks that only run once the server answered STUN/TURN; a non-skip one of these means it did. */
const NEEDS_ANSWER = new Set<string>(['STUN-2', 'AUTH-1', 'AUTH-2', 'AUTH-5', 'ALLOC-1', 'ALLOC-2', 'ALLOC-4', 'DATA-1', 'DATA-2', 'DATA-3', 'QUAL-1', 'E2E-1', 'ACL-1', 'ACL-2', 'ACL-3', 'ACL-4', 'ACL-5', 'TCPR-1']);
/** STUN-1 failures that still prove a STUN server answered. */
const STUN_ANSWERED = new Set(['auth-required', 'mapped-mismatch', 'no-mapped-address', 'error']);

function answered(checks: readonly ReportCheck[]): boolean {
  return checks.some((c) => (c.id === 'STUN-1' && (c.status === 'pass' || c.status === 'warn' || c.status === 'info' || (c.status === 'fail' && STUN_ANSWERED.has(c.cause ?? ''))))
    || (NEEDS_ANSWER.has(c.id) && c.status !== 'skip'));
}

/**
 * The report of a run on user targets: a URI that gave no STUN/TURN answer
 * becomes one finding "not a TURN server", so the report never says whether
 * something else listens there, refuses or drops (no port scanning through us).
 */
export function userTargetReport<R extends Report>(report: R, skipped: readonly { uri: string; why: string }[] = []): R {
  const silent = new Set(report.uris.filter((u) => !answered(report.checks.filter((c) => c.uri === u.uri))).map((u) => u.uri));
  const dnsFailed = new Set(report.checks.filter((c) => c.id === 'DNS-1' && c.status === 'fail').map((c) => c.uri));
  const checks: ReportCheck[] = [];
  const said = new Set<string>();
  for (const c of report.checks) {
    if (c.uri === null || !silent.has(c.uri)) {
      checks.push(c);
      continue;
    }
    // A name that does not resolve is the user's own DNS: say so; nothing went out.
    if (c.id === 'DNS-1' && c.status === 'fail') checks.push(c);
    if (dnsFailed.has(c.uri) || said.has(c.uri)) continue;
    said.add(c.uri);
    checks.push({
      id: 'NET-1' as CheckId, uri: c.uri, family: null, status: 'fail', severity: null, cause: 'not-turn',
      summary: `${c.uri} is not a TURN server (no STUN/TURN answer from it); for URIs shared by users nothing more is reported.`,
      evidence: {}, hint: 'Check the URI: the homeserver should advertise the TURN server\'s own host and port (coturn listening-port, tls-listening-port).',
    });
  }
  for (const s of skipped) {
    checks.push({
      id: 'ADV-1' as CheckId, uri: s.uri, family: null, status: 'warn', severity: null, cause: 'not-tested',
      summary: `Not tested: ${s.why}.`, evidence: {}, hint: null,
    });
  }
  const uris = report.uris.map((u) => (silent.has(u.uri) ? { ...u, firstFailure: 'NET-1' as CheckId, timingsMs: {}, relayedAddress: null } : u));
  return { ...report, checks, uris };
}
