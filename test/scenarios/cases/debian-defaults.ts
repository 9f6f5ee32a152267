import type { Scenario } from '../types';

// Issue 3 item 3: Debian's coturn as shipped (every turnserver.conf line
// commented out) plus auth, listeners and a certificate. What is true of it,
// measured: link-local (cloud metadata) and private peers reachable, IPv4-mapped
// peers accepted on the IPv6 relay, TCP relaying on, version disclosed (4.6.1,
// below the CVE-2026-27624 fix line), RFC 5780 on. Loopback stays denied
// (coturn's own default). Critical ACL findings cap the grade at Poor.
export default {
  name: 'debian-defaults',
  title: "Debian's coturn defaults: metadata/private peers, TCP relay, version disclosed, RFC 5780 on",
  server: { kind: 'coturn', coturn: { base: 'debian-defaults' } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp', 'turns'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  needs: ['ACL-2', 'ACL-3', 'ACL-4', 'TCPR-1', 'SEC-1', 'STUN-2'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Poor', ipv4: 'Excellent' },
    security: 'unsafe',
    findings: [
      { id: 'ACL-2', status: 'fail', uri: 'turn-udp', family: 'ipv4' },
      { id: 'ACL-3', status: 'fail', uri: 'turn-udp', family: 'ipv4' },
      { id: 'ACL-4', status: 'fail', uri: 'turn-udp' },
      { id: 'TCPR-1', status: 'fail', uri: 'turn-tcp' },
      { id: 'SEC-1', status: ['warn', 'fail'] },
      { id: 'STUN-2', status: 'warn', cause: 'rfc5780', uri: 'stun' },
    ],
    absent: [
      { id: 'ACL-1', status: 'fail' },
      { id: 'AUTH-1', status: 'fail' },
    ],
  },
} satisfies Scenario;
