// The two coturn starting points of the lab, as turnserver.conf lines.
//
// HARDENED is what the healthy scenario runs and what every misconfiguration
// departs from: peers in special ranges denied (CHECKS.md ACL-1..4), no TCP
// relaying, no version disclosure, no RFC 5780, no old TLS. The lab's own
// addresses (198.18.0.0/15, 2001:db8::/32) stand in for the public Internet,
// so they are NOT denied: the tester's peer socket lives there.
//
// Debian's /etc/turnserver.conf ships with every line commented out, so
// 'debian-defaults' is coturn's built-in behaviour plus what a server needs to
// run at all (listeners, auth, realm, certificate).

/** denied-peer-ip ranges for loopback (on top of coturn's own default, which allow-loopback-peers lifts). */
export const DENY_LOOPBACK_PEERS: readonly string[] = [
  '127.0.0.0-127.255.255.255',
  // Not '::': coturn 4.6.1 reads `denied-peer-ip=::` as "every address" (each
  // permission then gets 403, found by bisecting the healthy scenario).
  '::1',
];

/** denied-peer-ip ranges for "this network", link-local and IPv4-in-IPv6 forms. */
export const DENY_SPECIAL_PEERS: readonly string[] = [
  '0.0.0.0-0.255.255.255',
  '169.254.0.0-169.254.255.255',
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  '::ffff:0.0.0.0-::ffff:255.255.255.255',
  '64:ff9b::-64:ff9b::ffff:ffff',
];

export const DENY_PRIVATE_PEERS: readonly string[] = [
  '10.0.0.0-10.255.255.255',
  '100.64.0.0-100.127.255.255',
  '172.16.0.0-172.31.255.255',
  '192.168.0.0-192.168.255.255',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

export const HARDENING: readonly string[] = [
  'no-multicast-peers',
  'no-software-attribute',
  'no-tlsv1',
  'no-tlsv1_1',
  'no-stun-backward-compatibility',
  'response-origin-only-with-rfc5780',
];

export const NO_TCP_RELAY = 'no-tcp-relay';

/** The lab's DNS name for the scenario's server. */
export const LAB_NAME = 'turn.lab.test';
/** A name the "certificate for another host name" scenario's certificate is issued for. */
export const OTHER_NAME = 'other.lab.test';

/** What the lab treats as public (the engine's --assume-public). */
export const LAB_PUBLIC = ['198.18.0.0/15', '2001:db8::/32'];
