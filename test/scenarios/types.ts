// The scenario lab's vocabulary: a scenario is DATA (a server setup, the
// credentials the tester is given, the URIs it is pointed at, and what the
// report must say). runner.ts turns the setup into a real coturn (or another
// service) inside a lab network namespace; judge.ts compares the report with
// `expect`. Addresses are not known until the lab exists, so URIs are named by
// kind ('turn-udp', ...) and host ('name' = a lab DNS name answered by the
// scenario's own lookup, 'v4'/'v6' = IP literals).
import type { CheckId } from '../../src/tester/checks';
import type { Family, Grade, Status } from '../../src/tester/types';

export type UriKind = 'stun' | 'turn-udp' | 'turn-tcp' | 'turns';
export type HostForm = 'name' | 'v4' | 'v6';

/** How the tester gets its credentials (all derived from the server's real secret unless said otherwise). */
export type CredentialKind =
  /** Minted by the tester from the right shared secret (`--secret`). */
  | 'secret'
  /** Minted from a shared secret that is not coturn's `static-auth-secret`. */
  | 'wrong-secret'
  /** Correctly signed REST credentials whose expiry passed 15 minutes ago (`--username/--password`). */
  | 'expired'
  /** Handed out by an issuer whose clock is 2 h behind: ttl says 3600 s, expiry already 1 h past. */
  | 'skewed-behind'
  /** Handed out by an issuer whose clock is 3 days ahead: ttl 3600 s, expiry 3 days away. */
  | 'skewed-ahead';

/** Which certificate the coturn TLS listener serves (the tester trusts it via --ca unless 'untrusted'). */
export type CertKind = 'good' | 'expired' | 'other-host' | 'untrusted';

/** A firewall rule inside the scenario's namespace; 'relay' = coturn's relay port range. */
export interface FirewallRule {
  chain: 'INPUT' | 'OUTPUT';
  proto: 'udp' | 'tcp' | 'all';
  /** Destination port(s) (INPUT) ... */
  dport?: 'relay' | number;
  /** ... or source port(s) (OUTPUT from the relay range). */
  sport?: 'relay' | number;
  family?: 'ipv4' | 'ipv6' | 'both';
}

export interface CoturnSetup {
  /** Start from the hardened lab config (default) or from Debian's shipped defaults (plus auth and listeners). */
  base?: 'hardened' | 'debian-defaults';
  /** Which lab addresses coturn listens on (default both). */
  listen?: 'v4' | 'both';
  /** Relay addresses: the listen addresses (default), IPv4 only, or a private 10.x address inside the namespace. */
  relay?: 'listen' | 'v4-only' | 'private';
  /** external-ip: 'unassigned' = a lab address no host owns (a wrong public IP). */
  externalIp?: 'unassigned';
  cert?: CertKind;
  noUdp?: boolean;
  noAuth?: boolean;
  /** allow-loopback-peers, and no denied-peer-ip for loopback (both off in the hardened config). */
  allowLoopbackPeers?: boolean;
  /** Leave out the hardened config's denied-peer-ip lines for private ranges. */
  allowPrivatePeers?: boolean;
  /** Leave out no-tcp-relay. */
  tcpRelay?: boolean;
  /** denied-peer-ip covering coturn's own relay address. */
  denySelf?: boolean;
  /** Extra raw turnserver.conf lines. */
  extra?: string[];
}

export type ServerSetup =
  | { kind: 'coturn'; coturn?: CoturnSetup }
  /** HTTP on TCP 3478, random bytes on UDP 3478, HTTPS (trusted cert) on TCP 443: no TURN anywhere. */
  | { kind: 'not-turn' }
  /** Nothing listens (combine with a DROP-everything firewall for a black hole). */
  | { kind: 'nothing' };

/** The first failing gate expected for a URI target, or null for "no failing gate". */
export type CauseExpectation = { id: CheckId; cause?: string | string[] } | null;

/** A finding that must (findings) or must not (absent) be in the report. */
export interface FindingMatch {
  id?: CheckId;
  status?: Status | Status[];
  cause?: string | string[];
  uri?: UriKind;
  family?: Family;
  /** Evidence fields that must have exactly these values (e.g. DATA-1 { inbound: false, outbound: true }). */
  evidence?: Record<string, string | number | boolean | null>;
}

export interface Expectation {
  /**
   * Keys: 'kind/family', 'kind/*', '* /family' (no space), '*'; the most specific key wins.
   * A target no key covers is not judged on its first cause.
   */
  firstCause: Record<string, CauseExpectation>;
  grade: { overall: Grade; ipv4?: Grade; ipv6?: Grade };
  security?: 'ok' | 'warn' | 'unsafe';
  /** The security verdict's findings list must be exactly this (sorted ids). */
  securityFindings?: CheckId[];
  findings?: FindingMatch[];
  absent?: FindingMatch[];
  /** The whole run (engine wall time) must finish within this. */
  maxDurationMs?: number;
}

export interface Scenario {
  name: string;
  /** One line: what is wrong (or right) with this setup. */
  title: string;
  server: ServerSetup;
  firewall?: FirewallRule[];
  credentials: CredentialKind;
  uris: UriKind[];
  /** How the URIs name the server (default 'name'). */
  host?: HostForm;
  /** Several forms at once: every URI kind under each (turns: by name only); overrides `host`. */
  hosts?: HostForm[];
  /** Records of the lab name (default: A and AAAA of the host). */
  dns?: { a: boolean; aaaa: boolean };
  /** Families the run tests (default both). */
  family?: 'ipv4' | 'ipv6' | 'both';
  /** Run E2E-1 (slow; default false). */
  e2e?: boolean;
  /** Run alone, before the others (timing-sensitive checks such as E2E-1 must not compete for 2 cores). */
  exclusive?: boolean;
  /** QUAL-1 profile (default 'off'). */
  quality?: 'off' | 'audio' | 'video';
  /** The realm the run expects (AUTH-5); coturn's realm is the lab name unless `extra` sets another. */
  expectedRealm?: string;
  /** Checks the diagnosis rests on: while one is pending (not in the engine yet), grade/security verdicts are pending too. */
  needs?: CheckId[];
  expect: Expectation;
  /** Why the expectation is what it is, where it is not obvious. */
  note?: string;
}
