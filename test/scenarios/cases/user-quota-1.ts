import type { Scenario } from '../types';

export default {
  name: 'user-quota-1',
  title: 'user-quota=1: a second device (or URI) of the same user gets 486',
  server: { kind: 'coturn', coturn: { extra: ['user-quota=1'] } },
  credentials: 'secret',
  // One TURN URI: with several, the tester's own parallel allocations would meet the quota first.
  uris: ['turn-udp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  needs: ['ALLOC-4'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Good' },
    findings: [{ id: 'ALLOC-4', status: 'warn', cause: 'quota' }, { id: 'AUTH-2', status: 'pass' }],
  },
} satisfies Scenario;
