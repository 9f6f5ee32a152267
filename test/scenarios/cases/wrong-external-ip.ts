import type { Scenario } from '../types';

export default {
  name: 'wrong-external-ip',
  title: 'external-ip names an address that is not the server',
  server: { kind: 'coturn', coturn: { externalIp: 'unassigned' } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  expect: {
    firstCause: { 'stun/*': null, '*': { id: 'DATA-1', cause: 'wrong-external-ip' } },
    grade: { overall: 'Poor' },
    // Peers cannot reach the advertised address; what the relay sends still leaves (from the real one).
    findings: [{ id: 'DATA-1', status: 'fail', uri: 'turn-udp', evidence: { inbound: false, outbound: true } }],
  },
  note: 'peers cannot reach the advertised relay, and relayed data arrives from another address than advertised',
} satisfies Scenario;
