import type { Scenario } from '../types';

export default {
  name: 'inbound-only',
  title: 'relay path works only inbound: coturn may not send from its relay ports',
  server: { kind: 'coturn' },
  firewall: [{ chain: 'OUTPUT', proto: 'udp', sport: 'relay' }],
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { 'stun/*': null, '*': { id: 'DATA-1', cause: 'outbound-missing' } },
    grade: { overall: 'Poor' },
    findings: [{ id: 'DATA-1', status: 'fail', cause: 'outbound-missing', uri: 'turn-udp', evidence: { inbound: true, outbound: false } }],
  },
} satisfies Scenario;
