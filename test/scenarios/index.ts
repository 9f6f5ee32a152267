// Every scenario of the lab, in the order of issue 3 item 4 (then extras).
// One file per scenario under cases/; add new ones here.
import type { Scenario } from './types';
import healthy from './cases/healthy';
import healthyQuality from './cases/healthy-quality';
import wrongSecret from './cases/wrong-secret';
import expiredCredentials from './cases/expired-credentials';
import clockSkewBehind from './cases/clock-skew-behind';
import clockSkewAhead from './cases/clock-skew-ahead';
import openRelay from './cases/open-relay';
import relayRangeBlocked from './cases/relay-range-blocked';
import inboundOnly from './cases/inbound-only';
import privateRelay from './cases/private-relay';
import wrongExternalIp from './cases/wrong-external-ip';
import udpOff from './cases/udp-off';
import tlsExpired from './cases/tls-expired';
import tlsWrongHost from './cases/tls-wrong-host';
import tlsUntrusted from './cases/tls-untrusted';
import ipv6NotListening from './cases/ipv6-not-listening';
import noIpv6Relay from './cases/no-ipv6-relay';
import loopbackPeers from './cases/loopback-peers';
import privatePeers from './cases/private-peers';
import tcpRelay from './cases/tcp-relay';
import userQuotaOne from './cases/user-quota-1';
import selfDenied from './cases/self-denied';
import notTurn from './cases/not-turn';
import blackHole from './cases/black-hole';
import debianDefaults from './cases/debian-defaults';
import realmMismatch from './cases/realm-mismatch';
import userQuotaOneMany from './cases/user-quota-1-many';
import stunIgnored from './cases/stun-ignored';

export const SCENARIOS: readonly Scenario[] = [
  healthy,
  healthyQuality,
  wrongSecret,
  expiredCredentials,
  clockSkewBehind,
  clockSkewAhead,
  openRelay,
  relayRangeBlocked,
  inboundOnly,
  privateRelay,
  wrongExternalIp,
  udpOff,
  tlsExpired,
  tlsWrongHost,
  tlsUntrusted,
  ipv6NotListening,
  noIpv6Relay,
  loopbackPeers,
  privatePeers,
  tcpRelay,
  userQuotaOne,
  selfDenied,
  notTurn,
  blackHole,
  debianDefaults,
  realmMismatch,
  userQuotaOneMany,
  stunIgnored,
];
