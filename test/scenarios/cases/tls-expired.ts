import type { Scenario } from '../types';

export default {
  name: 'tls-expired',
  title: 'the turns: certificate expired yesterday',
  server: { kind: 'coturn', coturn: { cert: 'expired' } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turns'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { 'turns/*': { id: 'TLS-1', cause: 'expired' }, '*': null },
    grade: { overall: 'Good' },
  },
} satisfies Scenario;
