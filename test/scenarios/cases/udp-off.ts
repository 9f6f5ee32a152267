import type { Scenario } from '../types';

export default {
  name: 'udp-off',
  title: 'no-udp: only the TCP listener is up',
  server: { kind: 'coturn', coturn: { noUdp: true } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  expect: {
    firstCause: { 'stun/*': { id: 'NET-1', cause: 'refused' }, 'turn-udp/*': { id: 'NET-1', cause: 'refused' }, 'turn-tcp/*': null },
    grade: { overall: 'Poor', ipv4: 'Poor', ipv6: 'Poor' },
    findings: [{ id: 'DATA-1', status: 'pass', uri: 'turn-tcp', family: 'ipv4' }],
  },
} satisfies Scenario;
