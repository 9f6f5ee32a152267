// The check catalogue (../shared/CHECKS.md) as data: every finding's id comes
// from this table, and renderers take titles from here. One row per id: the
// scope its findings carry, its title, and whether it judges safety (the
// security verdict). How it runs is its definition in probes/ (see
// probes/registry.ts).
export type CheckScope = 'run' | 'uri' | 'uri-family' | 'rtc';

export interface CheckSpec {
  scope: CheckScope;
  title: string;
  /** Judges safety rather than function (feeds the security verdict). */
  security?: boolean;
}

export const CHECKS = {
  'HS-1': { scope: 'run', title: 'TURN credentials from the homeserver' },
  'HS-2': { scope: 'run', title: 'Credential lifetime' },
  // XMPP: the XEP-0215 front door (credentials/xmpp*.ts)
  'XMPP-1': { scope: 'run', title: 'XMPP client login' },
  'XMPP-2': { scope: 'run', title: 'External services advertised (XEP-0215)' },
  'XMPP-3': { scope: 'run', title: 'TURN credentials handed out' },
  'XMPP-4': { scope: 'run', title: 'Credential request for restricted services' },
  'XMPP-5': { scope: 'run', title: 'The six service variants' },
  'XMPP-6': { scope: 'run', title: 'Advertised hosts resolve' },
  'ADV-1': { scope: 'run', title: 'Advertised URI set' },
  'DNS-1': { scope: 'uri', title: 'DNS resolution' },
  'NET-1': { scope: 'uri-family', title: 'Port reachability' },
  'TLS-1': { scope: 'uri-family', title: 'TLS certificate' },
  'TLS-2': { scope: 'uri-family', title: 'Service on port 443' },
  'STUN-1': { scope: 'uri-family', title: 'STUN Binding' },
  'STUN-2': { scope: 'uri-family', title: 'Amplification surface', security: true },
  'AUTH-1': { scope: 'uri-family', title: 'Allocation without credentials', security: true },
  'AUTH-2': { scope: 'uri-family', title: 'Allocation with credentials' },
  'AUTH-3': { scope: 'run', title: 'REST credential expiry' },
  'AUTH-4': { scope: 'run', title: 'Shared secret agreement' },
  'AUTH-5': { scope: 'uri-family', title: 'Realm' },
  'ALLOC-1': { scope: 'uri-family', title: 'Relayed address' },
  'ALLOC-2': { scope: 'uri', title: 'IPv6 relay' },
  'ALLOC-3': { scope: 'run', title: 'Transport matrix' },
  'ALLOC-4': { scope: 'uri', title: 'Allocation quota' },
  'DATA-1': { scope: 'uri-family', title: 'Relayed data' },
  'DATA-2': { scope: 'uri-family', title: 'Relay to relay' },
  'DATA-3': { scope: 'uri-family', title: 'ChannelData over streams' },
  'QUAL-1': { scope: 'uri-family', title: 'Path quality' },
  'E2E-1': { scope: 'uri-family', title: 'WebRTC through the relay' },
  'ACL-5': { scope: 'uri-family', title: 'ACL positive control' },
  'ACL-1': { scope: 'uri-family', title: 'Loopback peers', security: true },
  'ACL-2': { scope: 'uri-family', title: 'Link-local / metadata peers', security: true },
  'ACL-3': { scope: 'uri-family', title: 'Private peers', security: true },
  'ACL-4': { scope: 'uri', title: 'IPv4-mapped / NAT64 peers', security: true },
  'TCPR-1': { scope: 'uri', title: 'TCP relaying (RFC 6062)', security: true },
  'SEC-1': { scope: 'run', title: 'Server version', security: true },
  // MatrixRTC (Element Call, Element X): scope 'rtc' = one advertised LiveKit transport.
  'RTC-1': { scope: 'run', title: 'MatrixRTC transport advertised' },
  'RTC-2': { scope: 'rtc', title: 'MatrixRTC authorization service reachable' },
  'RTC-3': { scope: 'rtc', title: 'LiveKit token for a Matrix user' },
  'RTC-4': { scope: 'run', title: 'OpenID check over federation' },
  'RTC-5': { scope: 'rtc', title: 'LiveKit signalling' },
  'RTC-6': { scope: 'rtc', title: "LiveKit's TURN servers" },
  'RTC-7': { scope: 'rtc', title: 'Media path to the SFU' },
  'RTC-8': { scope: 'rtc', title: 'Media both ways in a call' },
} as const satisfies Record<string, CheckSpec>;

export type CheckId = keyof typeof CHECKS;

export const CHECK_IDS = Object.keys(CHECKS) as CheckId[];

/** The checks that feed the security verdict. */
export const SECURITY_CHECKS: readonly CheckId[] = CHECK_IDS.filter((id) => (CHECKS[id] as CheckSpec).security === true);

export function isCheckId(s: string): s is CheckId {
  return Object.prototype.hasOwnProperty.call(CHECKS, s);
}
