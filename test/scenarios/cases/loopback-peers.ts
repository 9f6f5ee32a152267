import type { Scenario } from '../types';

export default {
  name: 'loopback-peers',
  title: 'allow-loopback-peers: the relay reaches 127.0.0.1 (CVE-2020-26262 class)',
  server: { kind: 'coturn', coturn: { allowLoopbackPeers: true } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  needs: ['ACL-1'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Poor', ipv4: 'Good' },
    security: 'unsafe',
    findings: [{ id: 'ACL-1', status: 'fail', uri: 'turn-udp' }, { id: 'ACL-5', status: 'pass', uri: 'turn-udp' }],
    absent: [{ id: 'ACL-3', status: 'fail' }],
  },
} satisfies Scenario;
