import type { Scenario } from '../types';

export default {
  name: 'private-relay',
  title: 'coturn behind NAT without external-ip: relayed address 10.x',
  server: { kind: 'coturn', coturn: { relay: 'private' } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { 'stun/*': null, '*': { id: 'ALLOC-1', cause: 'private-relay' } },
    grade: { overall: 'Poor' },
    absent: [{ id: 'DATA-1', status: ['pass', 'fail'] }],
  },
} satisfies Scenario;
