// Two fixes to werift (0.24) that make our answering peer reliable over TURN/TCP:
//
// 1. werift's DTLS client handles every ServerHello it receives by starting a
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
// 2. Flight 5 is five small writes; on werift's TURN/TCP and TLS sockets
//    Nagle's algorithm holds them back (delayed ACKs), which is what makes it
//    late. TCP_NODELAY on those sockets.
//
// Installed once per process, additively (werift behaves as before otherwise).
import { dirname, join } from 'node:path';
import * as werift from 'werift';

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

export function installWeriftDtlsFix(): void {
  if (installed) return;
  installed = true;
  // werift's package exports hide its DTLS module; load it by path next to the entry point.
  const root = join(dirname(require.resolve('werift')), '..', '..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const clientModule = require(join(root, 'dtls', 'src', 'client.js')) as { DtlsClient: new (...a: any[]) => ClientLike };
  const Original = clientModule.DtlsClient;
  if (typeof Original !== 'function') throw new Error('werift DtlsClient has an unexpected shape: update src/web/werift-dtls-fix.ts');
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

  const W = werift as unknown as Record<string, { prototype: { init: (...a: unknown[]) => Promise<unknown> } }>;
  for (const name of ['TcpTransport', 'TlsTransport']) {
    const cls = W[name];
    if (typeof cls?.prototype?.init !== 'function') continue;
    const origInit = cls.prototype.init;
    cls.prototype.init = async function initNoDelay(this: { stream?: { client?: { setNoDelay?: (v: boolean) => void } } }, ...args: unknown[]) {
      const r = await origInit.apply(this, args);
      this.stream?.client?.setNoDelay?.(true);
      return r;
    };
  }
}
