import type { Scenario } from '../types';

// Issue 11 item 3: the tester's own allocations (up to 3 at once, and coturn
// freeing deleted ones a second later) meet user-quota=1 long before a real
// user would. Nine URIs over both families and UDP/TCP/TLS must each grade on
// what they do; the quota shows up once, as ALLOC-4 naming the one allocation
// allowed, never as an AUTH-2 failure.
export default {
  name: 'user-quota-1-many',
  title: 'user-quota=1 with many URIs: our own load is never blamed on the server',
  server: { kind: 'coturn', coturn: { extra: ['user-quota=1'] } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp', 'turns'],
  hosts: ['name', 'v4', 'v6'],
  needs: ['ALLOC-4'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Excellent', ipv4: 'Excellent', ipv6: 'Excellent' },
    findings: [
      { id: 'ALLOC-4', status: 'warn', cause: 'quota', evidence: { allowed: 1 } },
      { id: 'AUTH-2', status: 'pass', uri: 'turn-udp', family: 'ipv6' },
      { id: 'DATA-1', status: 'pass', uri: 'turns', family: 'ipv6' },
    ],
    absent: [{ id: 'AUTH-2', status: 'fail' }, { id: 'DATA-2', status: 'fail' }, { id: 'ALLOC-2', status: ['warn', 'fail', 'info'] }],
  },
  note: 'Exactly one ALLOC-4 finding is checked by the integration test (test/integration/honest-gating.test.ts); here: no accusation, every URI Excellent.',
} satisfies Scenario;
