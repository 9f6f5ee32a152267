import type { Scenario } from '../types';

export default {
  name: 'tls-untrusted',
  title: 'the turns: certificate is self-signed (no --ca given)',
  server: { kind: 'coturn', coturn: { cert: 'untrusted' } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turns'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { 'turns/*': { id: 'TLS-1', cause: 'untrusted' }, '*': null },
    grade: { overall: 'Good' },
  },
} satisfies Scenario;
