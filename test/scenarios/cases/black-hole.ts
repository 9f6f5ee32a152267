import type { Scenario } from '../types';

export default {
  name: 'black-hole',
  title: 'every packet to the server is dropped: the report must still come fast',
  server: { kind: 'nothing' },
  firewall: [{ chain: 'INPUT', proto: 'all' }],
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp', 'turns'],
  expect: {
    firstCause: { '*': { id: 'NET-1', cause: 'filtered' } },
    grade: { overall: 'Fail', ipv4: 'Fail', ipv6: 'Fail' },
    maxDurationMs: 5000,
  },
} satisfies Scenario;
