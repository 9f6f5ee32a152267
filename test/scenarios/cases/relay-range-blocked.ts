import type { Scenario } from '../types';

export default {
  name: 'relay-range-blocked',
  title: 'firewall drops inbound UDP to the relay port range',
  server: { kind: 'coturn' },
  firewall: [{ chain: 'INPUT', proto: 'udp', dport: 'relay' }],
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  expect: {
    firstCause: { 'stun/*': null, '*': { id: 'DATA-1', cause: 'inbound-missing' } },
    grade: { overall: 'Poor', ipv4: 'Poor', ipv6: 'Poor' },
    findings: [
      { id: 'DATA-1', status: 'fail', cause: 'inbound-missing', uri: 'turn-udp', family: 'ipv6', evidence: { inbound: false, outbound: true } },
      { id: 'DATA-1', status: 'fail', cause: 'inbound-missing', uri: 'turn-tcp', family: 'ipv4', evidence: { inbound: false, outbound: true } },
    ],
  },
} satisfies Scenario;
