// The answering peer of the browser helper: a browser sends an SDP offer (its
// data channel, its candidates); we answer relay-only through the TURN server
// under test, echo what arrives on the data channel, and report the selected
// candidate pair. Single use, time-limited, everything closed at the end.
//
// werift, not node-datachannel: it relays over UDP, TCP and TLS, and our
// guard deletes its allocations when we close (libjuice leaves them behind).
import { isIP } from 'node:net';
import { RTCPeerConnection } from 'werift';
import { cidrContains } from '../tester/guard';
import type { Secret } from '../tester/secret';
import type { IceUri, Transport } from '../tester/types';
import { type AllocationEvent, bounded, type CandidateInfo, closeGuarded, type GuardContext, installWerift, newGuardContext, runGuarded, selected, weriftConfig } from '../webrtc/werift';

export interface AnswererOptions {
  turn: { uri: IceUri; address: string; username: string; password: Secret; ca?: string[] };
  /** Whole life of the peer, from construction; default 60 s. */
  lifetimeMs?: number;
  /** How long answer() waits for our relay candidate; default 5 s. */
  gatherTimeoutMs?: number;
  /** Lab use: accept remote candidates on loopback/private/link-local addresses. */
  allowPrivateCandidates?: boolean;
  /** Lab ranges whose candidates count as public (the user-target policy's). */
  assumePublic?: readonly string[];
  /** Echo limits (abuse guard). */
  maxMessages?: number;
  maxMessageBytes?: number;
}

export type AnswererState = 'new' | 'answering' | 'answered' | 'connected' | 'closed';

export interface AnswererReport {
  connected: boolean;
  /** Messages echoed back to the browser. */
  echoed: number;
  selectedPair: { local: CandidateInfo; remote: CandidateInfo } | null;
  /** TURN transport between us and the server. */
  turnTransport: Transport | null;
  /** Offer received -> data channel open. */
  connectMs: number | null;
  /** Why it ended: 'closed' (by the caller), 'lifetime', 'failed', 'no-relay-candidate', 'bad-offer'. */
  endReason: string;
  /** Our TURN allocation attempts (no credentials). */
  allocations: Array<Pick<AllocationEvent, 'transport' | 'ok' | 'kind' | 'errorCode' | 'socketError'>>;
  /** Remote candidates dropped by the address filter. */
  droppedCandidates: number;
}

export class AnswererError extends Error {
  constructor(readonly reason: 'used' | 'closed' | 'bad-offer' | 'no-relay-candidate' | 'timeout', message: string) {
    super(message);
    this.name = 'AnswererError';
  }
}

const DEFAULTS = { lifetimeMs: 60000, gatherTimeoutMs: 5000, maxMessages: 64, maxMessageBytes: 16384 };
const MAX_OFFER_BYTES = 64 * 1024;

export class AnsweringPeer {
  #state: AnswererState = 'new';
  readonly #opts: AnswererOptions & typeof DEFAULTS;
  readonly #ctx: GuardContext = newGuardContext();
  #pc: RTCPeerConnection | null = null;
  readonly #lifetime: NodeJS.Timeout;
  #offerAt = 0;
  #report: AnswererReport = { connected: false, echoed: 0, selectedPair: null, turnTransport: null, connectMs: null, endReason: '', allocations: [], droppedCandidates: 0 };
  #resolveDone!: (r: AnswererReport) => void;
  readonly #done = new Promise<AnswererReport>((r) => (this.#resolveDone = r));
  #resolveConnected!: (r: AnswererReport) => void;
  readonly #connected = new Promise<AnswererReport>((r) => (this.#resolveConnected = r));

  constructor(opts: AnswererOptions) {
    installWerift(); // every werift adaptation, once (src/webrtc/werift)
    this.#opts = { ...DEFAULTS, ...opts };
    this.#ctx.udp6 = opts.turn.uri.transport === 'udp' && opts.turn.address.includes(':');
    this.#lifetime = setTimeout(() => void this.close('lifetime'), this.#opts.lifetimeMs);
  }

  get state(): AnswererState {
    return this.#state;
  }

  /** Resolves when the data channel opened (with the selected pair), or when the peer ended without it. */
  connected(): Promise<AnswererReport> {
    return Promise.race([this.#connected, this.#done]);
  }

  /** Resolves once the peer is closed, for any reason. */
  done(): Promise<AnswererReport> {
    return this.#done;
  }

  /** Answer one offer (single use). The answer carries our relay candidate(s): no trickle needed. */
  async answer(offerSdp: string): Promise<{ type: 'answer'; sdp: string }> {
    if (this.#state === 'closed') throw new AnswererError('closed', 'the answering peer is closed');
    if (this.#state !== 'new') throw new AnswererError('used', 'the answering peer was already used');
    this.#state = 'answering';
    this.#offerAt = Date.now();
    if (typeof offerSdp !== 'string' || offerSdp.length > MAX_OFFER_BYTES || !offerSdp.startsWith('v=0')) {
      await this.close('bad-offer');
      throw new AnswererError('bad-offer', 'not an SDP offer');
    }
    const sdp = this.#filterSdp(offerSdp);
    try {
      return await runGuarded(this.#ctx, () => this.#answer(sdp));
    } catch (err) {
      const reason = err instanceof AnswererError ? err.reason : 'bad-offer';
      await this.close(reason);
      throw err instanceof AnswererError ? err : new AnswererError('bad-offer', 'the offer could not be applied');
    }
  }

  /** Trickled remote candidate (optional: candidates inside the offer work too). */
  async addRemoteCandidate(c: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }): Promise<void> {
    if (!this.#pc || this.#state === 'closed' || !c || typeof c.candidate !== 'string' || c.candidate.length > 1024) return;
    if (!this.#candidateAllowed(c.candidate)) {
      this.#report.droppedCandidates += 1;
      return;
    }
    await this.#pc
      .addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined } as never)
      .catch(() => undefined);
  }

  async close(reason = 'closed'): Promise<AnswererReport> {
    if (this.#state === 'closed') return this.#done;
    this.#state = 'closed';
    clearTimeout(this.#lifetime);
    this.#report.endReason ||= reason;
    this.#ctx.closed = true;
    if (this.#pc) await bounded(this.#pc.close(), 1500);
    await bounded(closeGuarded(this.#ctx), 1500);
    this.#report.allocations = this.#allocations();
    this.#resolveDone(this.#report);
    return this.#report;
  }

  async #answer(offerSdp: string): Promise<{ type: 'answer'; sdp: string }> {
    const t = this.#opts.turn;
    const pc = new RTCPeerConnection(
      weriftConfig({
        transport: t.uri.transport,
        address: t.address,
        port: t.uri.port,
        servername: t.uri.ipLiteral === 0 ? t.uri.host : null,
        username: t.username,
        password: t.password,
        ca: t.ca,
      }),
    );
    this.#pc = pc;
    pc.connectionStateChange.subscribe((s: string) => {
      if (s === 'failed') void this.close('failed');
    });
    pc.ondatachannel = (ev) => {
      const ch = ev.channel;
      ch.onopen = () => this.#onOpen();
      if (ch.readyState === 'open') this.#onOpen();
      ch.onmessage = (m) => {
        if (this.#state === 'closed') return;
        const data = m.data as string | Buffer;
        if (this.#report.echoed >= this.#opts.maxMessages || data.length > this.#opts.maxMessageBytes) return;
        this.#report.echoed += 1;
        ch.send(data);
      };
    };
    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    // Our relay candidate must be in the answer: wait for gathering (relay-only: one allocation).
    const gathered = new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.iceGatheringStateChange.subscribe((s: string) => s === 'complete' && resolve());
    });
    await pc.setLocalDescription(await pc.createAnswer());
    const ok = await bounded(gathered.then(() => true), this.#opts.gatherTimeoutMs);
    if (!ok) throw new AnswererError('timeout', 'no relay candidate in time');
    if (!this.#ctx.allocations.some((a) => a.ok)) throw new AnswererError('no-relay-candidate', 'the TURN server gave no relay candidate');
    if (this.#state !== 'answering') throw new AnswererError('closed', 'the answering peer is closed');
    this.#state = 'answered';
    return { type: 'answer', sdp: pc.localDescription!.sdp };
  }

  #onOpen(): void {
    if (this.#report.connected || !this.#pc) return;
    this.#state = 'connected';
    const pair = selected(this.#pc);
    this.#report.connected = true;
    this.#report.connectMs = Date.now() - this.#offerAt;
    this.#report.selectedPair = pair ? { local: pair.local, remote: pair.remote } : null;
    this.#report.turnTransport = pair?.local.relayProtocol ?? null;
    this.#report.allocations = this.#allocations();
    this.#resolveConnected(this.#report);
  }

  #allocations(): AnswererReport['allocations'] {
    return this.#ctx.allocations.map(({ transport, ok, kind, errorCode, socketError }) => ({ transport, ok, kind, errorCode, socketError }));
  }

  #filterSdp(sdp: string): string {
    return sdp
      .split(/\r?\n/)
      .filter((line) => {
        if (!line.startsWith('a=candidate:')) return true;
        const ok = this.#candidateAllowed(line.slice(2));
        if (!ok) this.#report.droppedCandidates += 1;
        return ok;
      })
      .join('\r\n');
  }

  // Remote candidates make our relay send STUN checks to their addresses: keep
  // them to public addresses (mDNS names can't be resolved here anyway).
  #candidateAllowed(candidate: string): boolean {
    const parts = candidate.replace(/^candidate:/, '').split(/\s+/);
    const address = parts[4] ?? '';
    if (!isIP(address)) return false;
    return this.#opts.allowPrivateCandidates === true || !isSpecialAddress(address) || (this.#opts.assumePublic ?? []).some((c) => cidrContains(c, address));
  }
}

/** Loopback, private, CGNAT, link-local, ULA, unspecified, multicast, IPv4-mapped. */
export function isSpecialAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) {
    const [a, b] = address.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224;
  }
  if (v === 6) {
    const x = address.toLowerCase();
    return x === '::' || x === '::1' || /^f[cd]/.test(x) || /^fe[89ab]/.test(x) || x.startsWith('ff') || x.startsWith('::ffff:') || x.startsWith('64:ff9b:');
  }
  return true;
}
