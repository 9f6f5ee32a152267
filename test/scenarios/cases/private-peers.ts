import type { Scenario } from '../types';

export default {
  name: 'private-peers',
  title: 'no denied-peer-ip for private ranges: the relay reaches 10/8, 172.16/12, 192.168/16',
  server: { kind: 'coturn', coturn: { allowPrivatePeers: true } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp'],
  dns: { a: true, aaaa: false },
  family: 'ipv4',
  needs: ['ACL-3'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Good' },
    security: 'warn',
    findings: [{ id: 'ACL-3', status: 'fail', uri: 'turn-udp' }],
    absent: [{ id: 'ACL-1', status: 'fail' }],
  },
} satisfies Scenario;
