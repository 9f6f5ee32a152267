import type { Scenario } from '../types';

export default {
  name: 'self-denied',
  title: "denied-peer-ip covers coturn's own relay address: relay-to-relay breaks",
  server: { kind: 'coturn', coturn: { denySelf: true } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Good' },
    findings: [
      { id: 'DATA-2', status: 'fail', cause: 'self-denied', uri: 'turn-udp' },
      { id: 'DATA-1', status: 'pass', uri: 'turn-udp' },
    ],
  },
  note: 'DATA-2 is not a gate: each relay still works for peers elsewhere',
} satisfies Scenario;
