import type { Scenario } from '../types';

export default {
  name: 'tls-wrong-host',
  title: 'the turns: certificate is for another host name',
  server: { kind: 'coturn', coturn: { cert: 'other-host' } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turns'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { 'turns/*': { id: 'TLS-1', cause: 'hostname-mismatch' }, '*': null },
    grade: { overall: 'Good' },
  },
} satisfies Scenario;
