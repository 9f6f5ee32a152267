import type { Scenario } from '../types';

// Issue 11 item 2: coturn `no-stun` ignores every Binding but allocates and
// relays. Its TURN URIs are tested and graded on what they do; no network
// verdict, since the port answers Allocate. turn: over UDP is Poor (STUN was
// expected there too), turn: over TCP and turns: are Excellent; each family is
// Poor (TURN without any STUN).
export default {
  name: 'stun-ignored',
  title: 'no-stun: Binding ignored, TURN works',
  server: { kind: 'coturn', coturn: { extra: ['no-stun'] } },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turn-tcp', 'turns'],
  expect: {
    firstCause: { 'stun/*': { id: 'STUN-1', cause: 'binding-ignored' }, 'turn-udp/*': { id: 'STUN-1', cause: 'binding-ignored' }, 'turn-tcp/*': null, 'turns/*': null },
    grade: { overall: 'Poor', ipv4: 'Poor', ipv6: 'Poor' },
    findings: [
      { id: 'NET-1', status: 'pass', uri: 'turn-udp', family: 'ipv4' },
      { id: 'DATA-1', status: 'pass', uri: 'turn-udp', family: 'ipv4' },
      { id: 'DATA-1', status: 'pass', uri: 'turns', family: 'ipv6' },
    ],
    absent: [{ id: 'NET-1', status: 'fail' }, { id: 'AUTH-2', status: 'fail' }],
  },
} satisfies Scenario;
