import type { Scenario } from '../types';

export default {
  name: 'tcp-relay',
  title: 'RFC 6062 TCP relaying left on (no no-tcp-relay)',
  server: { kind: 'coturn', coturn: { tcpRelay: true } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  needs: ['TCPR-1'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Good' },
    security: 'warn',
    findings: [{ id: 'TCPR-1', status: 'fail', uri: 'turn-tcp' }],
  },
} satisfies Scenario;
