import type { Scenario } from '../types';

export default {
  name: 'no-ipv6-relay',
  title: 'coturn listens on IPv6 but relays on IPv4 only',
  server: { kind: 'coturn', coturn: { relay: 'v4-only' } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Good', ipv4: 'Good', ipv6: 'Good' },
    findings: [{ id: 'ALLOC-2', status: 'warn', cause: 'no-ipv6-relay' }],
    absent: [{ status: 'fail' }],
  },
} satisfies Scenario;
