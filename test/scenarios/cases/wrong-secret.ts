import type { Scenario } from '../types';

export default {
  name: 'wrong-secret',
  title: 'the tester holds a shared secret coturn does not have',
  server: { kind: 'coturn' },
  credentials: 'wrong-secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  needs: ['AUTH-4'],
  expect: {
    firstCause: { 'stun/*': null, '*': { id: 'AUTH-2', cause: 'wrong-secret' } },
    grade: { overall: 'Poor' },
    findings: [{ id: 'AUTH-4', status: 'fail', cause: 'server-rejects-minted' }],
    absent: [{ id: 'AUTH-3', status: ['fail', 'warn'] }],
  },
} satisfies Scenario;
