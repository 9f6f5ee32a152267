import type { Scenario } from '../types';

export default {
  name: 'ipv6-not-listening',
  title: 'AAAA published, coturn listens on IPv4 only',
  server: { kind: 'coturn', coturn: { listen: 'v4', relay: 'v4-only' } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  expect: {
    firstCause: { '*/ipv4': null, '*/ipv6': { id: 'NET-1', cause: 'refused' } },
    grade: { overall: 'Good', ipv4: 'Good', ipv6: 'Fail' },
    findings: [{ id: 'DNS-1', status: 'warn', cause: 'aaaa-silent' }],
  },
} satisfies Scenario;
