import type { Scenario } from '../types';

// The reference: the hardened config, every transport, both families, turns: on 443.
// E2E-1 (WebRTC through each relay) runs here; healthy-quality measures QUAL-1.
// Never a wrong accusation: no fail, no warn, security ok with no findings.
export default {
  name: 'healthy',
  title: 'hardened coturn: UDP, TCP, TLS on 443, IPv4 and IPv6',
  server: { kind: 'coturn' },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp', 'turns'],
  e2e: true,
  exclusive: true,
  needs: ['ACL-1', 'ACL-3', 'TCPR-1', 'SEC-1', 'STUN-2'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Excellent', ipv4: 'Excellent', ipv6: 'Excellent' },
    security: 'ok',
    securityFindings: [],
    findings: [
      { id: 'DATA-1', status: 'pass', uri: 'turn-udp', family: 'ipv4' },
      { id: 'DATA-1', status: 'pass', uri: 'turns', family: 'ipv6' },
      { id: 'DATA-2', status: 'pass', uri: 'turn-udp' },
      { id: 'E2E-1', status: 'pass', uri: 'turns', family: 'ipv4' },
      { id: 'ACL-1', status: 'pass' },
      { id: 'ACL-3', status: 'pass' },
      { id: 'TCPR-1', status: 'pass' },
      { id: 'ACL-5', status: 'pass', uri: 'turn-udp' },
      { id: 'SEC-1', status: 'pass' },
    ],
    absent: [{ status: 'fail' }, { status: 'warn' }],
  },
} satisfies Scenario;
