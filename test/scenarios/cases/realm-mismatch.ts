import type { Scenario } from '../types';

// The run expects the homeserver's realm; coturn announces its own host name.
// A warning, not a failure: long-term credentials still work within one realm.
export default {
  name: 'realm-mismatch',
  title: 'coturn announces another realm than the one expected',
  server: { kind: 'coturn' },
  credentials: 'secret',
  uris: ['stun', 'turn-udp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expectedRealm: 'matrix.lab.test',
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Good' },
    findings: [{ id: 'AUTH-5', status: 'warn', cause: 'realm-mismatch', uri: 'turn-udp' }],
    absent: [{ status: 'fail' }],
  },
} satisfies Scenario;
