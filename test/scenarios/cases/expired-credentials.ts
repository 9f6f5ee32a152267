import type { Scenario } from '../types';

export default {
  name: 'expired-credentials',
  title: 'REST credentials (signed right) whose expiry passed 15 minutes ago',
  server: { kind: 'coturn' },
  credentials: 'expired',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { 'stun/*': null, '*': { id: 'AUTH-2', cause: 'expired' } },
    grade: { overall: 'Poor' },
    findings: [{ id: 'AUTH-3', status: 'fail', cause: 'expired' }],
  },
} satisfies Scenario;
