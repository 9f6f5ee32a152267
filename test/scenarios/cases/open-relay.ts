import type { Scenario } from '../types';

export default {
  name: 'open-relay',
  title: 'no-auth: coturn relays for anyone',
  server: { kind: 'coturn', coturn: { noAuth: true } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Poor', ipv4: 'Good' },
    security: 'unsafe',
    findings: [
      { id: 'AUTH-1', status: 'fail', cause: 'open-relay', uri: 'turn-udp' },
      { id: 'AUTH-1', status: 'fail', cause: 'open-relay', uri: 'turn-tcp' },
    ],
  },
  note: 'the relay itself works (IPv4 Good), but a critical finding caps the overall grade at Poor',
} satisfies Scenario;
