// The MatrixRTC scenarios (issue 12 item 2), as data: one fault at a time on the
// lab MatrixRTC stack (LiveKit in a namespace, the lk-jwt-service stand-in,
// Synapse with MSC4143), and what the report must say about it.
import type { CheckId } from '../../../src/tester/checks';
import type { Grade, RtcPath, Status } from '../../../src/tester/types';
import type { DropRule } from '../../../scripts/lab/netns';

export interface RtcFindingMatch {
  id: CheckId;
  status: Status | Status[];
  cause?: string;
  path?: RtcPath;
}

export interface RtcScenario {
  name: string;
  title: string;
  /** Synapse variant (a scenario with one gets its own Synapse; the rest share one). */
  synapse?: { endpoint?: boolean; wellKnown?: boolean; msc4143?: boolean; noFederation?: boolean; noCors?: boolean };
  livekit?: { turn?: boolean; turnTlsPort?: number; nodeIp?: string; autoCreate?: boolean };
  standin?: { fullAccess?: string[]; wrongSecret?: boolean; legacy?: boolean; down?: boolean };
  /** DROP rules inside the SFU's namespace (INPUT). */
  firewall?: DropRule[];
  expect: { grade: Grade | 'absent'; findings: RtcFindingMatch[]; maxDurationMs?: number };
}

export const RTC_SCENARIOS: readonly RtcScenario[] = [
  {
    name: 'rtc-healthy',
    title: 'LiveKit with TURN/TLS on 443, advertised everywhere',
    livekit: { turnTlsPort: 443 },
    expect: {
      grade: 'Excellent',
      findings: [
        { id: 'RTC-1', status: 'pass' },
        { id: 'RTC-2', status: 'pass' },
        { id: 'RTC-3', status: 'pass' },
        { id: 'RTC-4', status: 'pass' },
        { id: 'RTC-5', status: 'pass' },
        { id: 'RTC-7', status: 'pass', path: 'udp' },
        { id: 'RTC-7', status: 'pass', path: 'tcp' },
        { id: 'RTC-7', status: 'pass', path: 'relay' },
        { id: 'RTC-8', status: 'pass' },
      ],
    },
  },
  { name: 'rtc-none', title: 'no transport advertised anywhere', synapse: { endpoint: false, wellKnown: false }, expect: { grade: 'Fail', findings: [{ id: 'RTC-1', status: 'fail', cause: 'none' }] } },
  { name: 'rtc-well-known-only', title: 'only .well-known lists the transport (msc4143 off)', synapse: { endpoint: false, msc4143: false }, expect: { grade: 'Great', findings: [{ id: 'RTC-1', status: 'warn', cause: 'msc4143-off' }] } },
  { name: 'rtc-endpoint-only', title: 'only the rtc/transports endpoint lists the transport', synapse: { wellKnown: false }, expect: { grade: 'Great', findings: [{ id: 'RTC-1', status: 'warn', cause: 'endpoint-only' }] } },
  { name: 'rtc-no-cors', title: '.well-known served without CORS', synapse: { noCors: true }, expect: { grade: 'Great', findings: [{ id: 'RTC-1', status: 'warn', cause: 'no-cors' }] } },
  { name: 'rtc-service-down', title: 'the authorization service is down', standin: { down: true }, expect: { grade: 'Fail', findings: [{ id: 'RTC-2', status: 'fail', cause: 'refused' }, { id: 'RTC-3', status: 'skip' }] } },
  {
    name: 'rtc-no-federation',
    title: 'no federation/openid listener: the service cannot verify OpenID',
    synapse: { noFederation: true },
    expect: { grade: 'Fail', findings: [{ id: 'RTC-4', status: 'fail', cause: 'not-serving' }, { id: 'RTC-3', status: 'fail', cause: 'unauthorized' }] },
  },
  { name: 'rtc-wrong-key', title: "the service's LiveKit key/secret differ from LiveKit's", standin: { wrongSecret: true }, expect: { grade: 'Fail', findings: [{ id: 'RTC-3', status: 'fail', cause: 'room-create' }] } },
  {
    name: 'rtc-not-full-access',
    title: 'homeserver not in LIVEKIT_FULL_ACCESS_HOMESERVERS, auto_create off',
    standin: { fullAccess: ['other.example'] },
    livekit: { autoCreate: false },
    expect: { grade: 'Fail', findings: [{ id: 'RTC-3', status: 'pass' }, { id: 'RTC-5', status: 'fail', cause: 'no-room' }] },
  },
  {
    name: 'rtc-signalling-blocked',
    title: "the SFU's signalling port is firewalled",
    standin: { fullAccess: ['other.example'] },
    firewall: [{ proto: 'tcp', ports: 7880 }],
    expect: { grade: 'Fail', findings: [{ id: 'RTC-5', status: 'fail', cause: 'filtered' }], maxDurationMs: 10_000 },
  },
  {
    name: 'rtc-udp-blocked',
    title: "LiveKit's UDP blocked: only ICE/TCP 7881 works",
    firewall: [{ proto: 'udp' }],
    expect: { grade: 'Good', findings: [{ id: 'RTC-7', status: 'fail', path: 'udp', cause: 'udp-blocked' }, { id: 'RTC-7', status: 'pass', path: 'tcp' }, { id: 'RTC-8', status: 'pass' }] },
  },
  {
    name: 'rtc-relay-only',
    title: 'UDP media and TCP 7881 closed: only the TURN relay works',
    firewall: [{ proto: 'udp', ports: 7882 }, { proto: 'tcp', ports: 7881 }],
    expect: { grade: 'Good', findings: [{ id: 'RTC-7', status: 'fail', path: 'udp' }, { id: 'RTC-7', status: 'fail', path: 'tcp', cause: 'tcp-closed' }, { id: 'RTC-7', status: 'pass', path: 'relay' }] },
  },
  {
    name: 'rtc-private-node-ip',
    title: 'rtc.node_ip is a private address',
    livekit: { nodeIp: '10.213.7.9' },
    expect: { grade: 'Poor', findings: [{ id: 'RTC-5', status: 'pass' }, { id: 'RTC-7', status: 'fail', path: 'udp', cause: 'private-candidates' }] },
  },
  { name: 'rtc-turn-off', title: "LiveKit's embedded TURN off", livekit: { turn: false }, expect: { grade: 'Great', findings: [{ id: 'RTC-6', status: 'warn', cause: 'none' }, { id: 'RTC-7', status: 'skip', path: 'relay' }] } },
  { name: 'rtc-turns-443-dead', title: 'turns: on 443 advertised, nothing listens there', livekit: { turnTlsPort: 5349 }, expect: { grade: 'Great', findings: [{ id: 'RTC-6', status: 'fail', cause: 'tls-443-dead' }] } },
  { name: 'rtc-legacy-service', title: 'an older authorization service without /get_token', standin: { legacy: true }, livekit: { turnTlsPort: 443 }, expect: { grade: 'Excellent', findings: [{ id: 'RTC-3', status: 'warn', cause: 'legacy-only' }] } },
];
