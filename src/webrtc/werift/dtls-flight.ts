// werift (0.24) patch: a retransmitted DTLS flight 4 must not restart flight 5.
//
// werift's DTLS client handles every ServerHello it receives by starting a
//    new flight 5, even when it already sent flight 5. Chromium retransmits
//    its flight 4 (ServerHello..ServerHelloDone) when our flight 5 is late;
//    werift then re-runs the key exchange on the duplicate and its state no
//    longer matches the browser's: Chromium says "connected", werift resends
//    flight 5 forever, the data channel never opens. Traced on loopback:
//    >ClientHello <flight4 >flight5 <flight4(again) <CCS+Finished >flight5 >flight5 ...
//    RFC 6347 4.2.4: a retransmitted previous flight is answered by
//    retransmitting our last flight, never processed again. So once flight 5
//    went out, repeated flight-4 messages are dropped (werift's own timer
//    retransmits flight 5); a second ServerHello never starts a second flight 5.
// (What makes flight 5 late over TURN/TCP, Nagle, is fixed in guard.ts: TCP_NODELAY.)
//
// Installed once per process (src/webrtc/werift/index.ts), additively.
import { dirname, join } from 'node:path';

// Handshake types of the server's flight 4 (RFC 5246 7.4).
const FLIGHT4 = new Set([2 /* server_hello */, 11 /* certificate */, 12 /* server_key_exchange */, 13 /* certificate_request */, 14 /* server_hello_done */]);

interface Assembled {
  msg_type: number;
}
interface ClientLike {
  flight5?: unknown;
  dtls: { flight: number };
  onHandleHandshakes: (assembled: Assembled[]) => Promise<void>;
}

let installed = false;

export function installDtlsFlightFix(): void {
  if (installed) return;
  installed = true;
  // werift's package exports hide its DTLS module; load it by path next to the entry point.
  const root = join(dirname(require.resolve('werift')), '..', '..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const clientModule = require(join(root, 'dtls', 'src', 'client.js')) as { DtlsClient: new (...a: any[]) => ClientLike };
  const Original = clientModule.DtlsClient;
  if (typeof Original !== 'function') throw new Error('werift DtlsClient has an unexpected shape: update src/webrtc/werift/dtls-flight.ts');
  class DedupingDtlsClient extends (Original as new (...a: any[]) => ClientLike) {
    constructor(...args: any[]) {
      super(...args);
      const inner = this.onHandleHandshakes;
      if (typeof inner !== 'function') return;
      this.onHandleHandshakes = (assembled: Assembled[]) => {
        let kept = assembled;
        if (this.dtls.flight >= 5) kept = kept.filter((h) => !FLIGHT4.has(h.msg_type));
        else if (this.flight5) kept = kept.filter((h) => h.msg_type !== 2);
        return kept.length > 0 ? inner(kept) : Promise.resolve();
      };
    }
  }
  clientModule.DtlsClient = DedupingDtlsClient as never;

}
