import type { Scenario } from '../types';

export default {
  name: 'clock-skew-ahead',
  title: 'credentials minted by an issuer whose clock is 3 days ahead (valid far too long)',
  server: { kind: 'coturn' },
  credentials: 'skewed-ahead',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Good' },
    findings: [{ id: 'AUTH-3', status: 'warn', cause: ['clock-skew', 'too-long'] }, { id: 'AUTH-2', status: 'pass' }],
    absent: [{ status: 'fail' }],
  },
} satisfies Scenario;
