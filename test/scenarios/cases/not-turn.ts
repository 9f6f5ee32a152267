import type { Scenario } from '../types';

export default {
  name: 'not-turn',
  title: 'another service owns the ports: HTTP on TCP, random bytes on UDP, a web site on 443',
  server: { kind: 'not-turn' },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp', 'turns'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: {
      'stun/*': { id: 'STUN-1', cause: 'not-stun' },
      'turn-udp/*': { id: 'STUN-1', cause: 'not-stun' },
      'turn-tcp/*': { id: 'STUN-1', cause: 'not-stun' },
      'turns/*': { id: 'TLS-2', cause: 'http-answer' },
    },
    grade: { overall: 'Fail' },
  },
} satisfies Scenario;
