import type { Scenario } from '../types';

export default {
  name: 'clock-skew-behind',
  title: 'credentials minted by an issuer whose clock is 2 h behind (ttl 3600 s, already expired)',
  server: { kind: 'coturn' },
  credentials: 'skewed-behind',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { 'stun/*': null, '*': { id: 'AUTH-2', cause: 'expired' } },
    grade: { overall: 'Poor' },
    findings: [{ id: 'AUTH-3', status: 'fail', cause: ['clock-skew', 'expired'] }],
  },
  note: 'AUTH-3 may name the issuer clock (ttl known, expiry already past) as clock-skew; expired is accepted while it does not.',
} satisfies Scenario;
