// werift, adapted once for this process: every patch we apply to werift
// (pinned to an exact version in package.json) is installed here, the first
// time either user needs werift (E2E-1's pair in the tester, the helper page's
// answering peer in src/web). PATCHES says what each fixes and which test shows
// it still matters, so a werift upgrade shows which patches are still needed.
import { installWeriftPatches } from './guard';

export { type AllocationEvent, classify, closeGuarded, type GuardContext, newGuardContext, RefusedAfterClose, runGuarded, type TurnTransportType } from './guard';
export { bounded, type CandidateInfo, hostPort, type RelayServer, type Selected, selected, weriftConfig } from './peer';

/** The werift version the patches were written against (package.json pins it). */
export const WERIFT_VERSION = '0.24.4';

/** Every adaptation, what it fixes, and the test (file: name) that shows the behaviour. */
export const PATCHES: readonly { name: string; fixes: string; test: string }[] = [
  { name: 'allocation-events', fixes: 'werift cannot say why a TURN allocation failed; an error to our authenticated Allocate fails fast (werift waits ~6 s)', test: 'test/integration/e2e.test.ts: wrong password fails fast with the 401 named' },
  { name: 'stale-401', fixes: 'a retransmitted unauthenticated Allocate answered late with 401 is not a rejection of the authenticated one', test: 'test/integration/e2e-load.test.ts: stale 401s to a retransmitted unauthenticated Allocate are not a credential failure' },
  { name: 'mismatch-retry', fixes: '437 (this local port still has an allocation) is retried from a fresh port (RFC 8656)', test: 'test/integration/e2e-load.test.ts: 437 (an allocation already on this 5-tuple) is retried from a fresh local port' },
  { name: 'refresh-timer', fixes: "werift's un-cancellable 500 s refresh timer keeps the process alive", test: 'test/integration/webrtc-werift.test.ts: no timer of a closed pair keeps the process alive' },
  { name: 'delete-on-close', fixes: 'close() leaves the allocation on the server for 600 s; we send Refresh LIFETIME=0 first', test: 'test/integration/webrtc-werift.test.ts: closing a pair deletes its allocations' },
  { name: 'refuse-after-close', fixes: "werift's silent UDP->TCP fallback starts after the probe finished", test: 'test/integration/e2e.test.ts: dead UDP port fails within the deadline' },
  { name: 'udp6', fixes: 'werift hard-codes udp4 sockets for TURN/UDP: an IPv6 server is unreachable', test: 'test/integration/e2e.test.ts: IPv6: UDP, TCP and TLS pass with werift' },
  { name: 'tcp-nodelay', fixes: "Nagle holds back werift's small DTLS writes over TURN/TCP and TLS (40 ms delayed ACKs)", test: 'test/integration/web-answerer-tcp.test.ts: three parallel Chromium <-> answerer data channels over TURN/TCP, twice, all open' },
  { name: 'same-process-dtls', fixes: "werift's blind 100 ms wait before the DTLS client hello, when both ends are ours", test: 'test/integration/e2e.test.ts: passes with a relay-relay pair on the same transport' },
  { name: 'dtls-flight-4', fixes: 'a retransmitted DTLS flight 4 restarts flight 5 and the data channel never opens with Chromium', test: 'test/integration/web-answerer-tcp.test.ts: three parallel Chromium <-> answerer data channels over TURN/TCP, twice, all open' },
];

/** Install every werift adaptation (idempotent; runGuarded does it too). */
export function installWerift(): void {
  installWeriftPatches();
}
