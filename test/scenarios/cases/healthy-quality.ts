import type { Scenario } from '../types';

// The hardened config again, with path quality measured (QUAL-1, audio
// profile) through UDP and TLS relays: a clean lab link must not be called lossy or slow.
export default {
  name: 'healthy-quality',
  title: 'hardened coturn, path quality measured (audio profile)',
  server: { kind: 'coturn' },
  credentials: 'secret',
  uris: ['stun', 'turn-udp', 'turns'],
  quality: 'audio',
  needs: ['QUAL-1'],
  expect: {
    firstCause: { '*': null },
    grade: { overall: 'Excellent', ipv4: 'Excellent', ipv6: 'Excellent' },
    security: 'ok',
    findings: [
      { id: 'QUAL-1', status: 'pass', uri: 'turn-udp', family: 'ipv4' },
      { id: 'QUAL-1', status: 'pass', uri: 'turns', family: 'ipv6' },
    ],
    absent: [{ status: 'fail' }, { status: 'warn' }],
  },
} satisfies Scenario;
