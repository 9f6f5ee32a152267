import type { Scenario } from '../types';

// The hardened config again, with path quality measured (QUAL-1, audio
// profile): a clean lab link must not be called lossy or slow. Four TURN
// targets and three allocations: one window per family (UDP), the TLS relays
// point at it (issue 16 item 7: the report does not wait for windows in turn).
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
      { id: 'QUAL-1', status: 'pass', uri: 'turn-udp', family: 'ipv6' },
      { id: 'QUAL-1', status: 'info', uri: 'turns', family: 'ipv6', evidence: { reason: 'shared-window' } },
    ],
    absent: [{ status: 'fail' }, { status: 'warn' }],
    maxDurationMs: 6500,
  },
} satisfies Scenario;
