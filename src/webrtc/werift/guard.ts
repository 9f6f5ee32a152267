// Keeps werift's TURN client on a leash, per probe run.
//
// werift (0.24) has no way to tell a caller why its TURN allocation failed
// (wrong credentials just mean "no candidate"), never deletes its allocations
// (close() leaves them on the server for 600 s), keeps the process alive for
// ~500 s with an un-cancellable refresh timer, and silently retries a failed
// UDP allocation over TCP. We patch its exported classes once, additively:
//  - every TURN client and socket created inside a guarded run is recorded in
//    that run's context (AsyncLocalStorage follows werift's promise chains);
//  - allocation successes and failures are reported to the context; an error
//    to our authenticated Allocate fails fast (werift would wait ~6 s), while
//    stale answers to retransmitted unauthenticated Allocates are ignored;
//  - a 437 (this local UDP port still has an allocation on the server) is
//    retried from a fresh port, as RFC 8656 advises;
//  - the refresh loop uses an unref'd, cancellable timer;
//  - close() first deletes the allocation (Refresh LIFETIME=0, short deadline);
//  - once a run is closed, any late socket or allocation it would still start
//    (the UDP->TCP fallback) is refused before it reaches the network.
//  - TURN over UDP to an IPv6 server gets a udp6 socket (werift hard-codes udp4).
// Outside a guarded run werift behaves as before (except the refresh timer).
import { AsyncLocalStorage } from 'node:async_hooks';
import { createSocket, type Socket } from 'node:dgram';
import * as werift from 'werift';
import { installDtlsFlightFix } from './dtls-flight';

export type TurnTransportType = 'udp' | 'tcp' | 'tls';

export interface AllocationEvent {
  transport: TurnTransportType;
  ok: boolean;
  /** Relayed address on success. */
  relayed?: string;
  /** Failure kind: the server answered with an error, nobody answered, or the socket failed. */
  kind?: 'rejected' | 'timeout' | 'socket';
  errorCode?: number;
  /** Socket error code (ECONNREFUSED, CERT_HAS_EXPIRED, ...) — never carries credentials. */
  socketError?: string;
}

export interface GuardContext {
  closed: boolean;
  /** The TURN server is IPv6 over UDP: werift hard-codes udp4 sockets for TURN, swap in udp6. */
  udp6?: boolean;
  /**
   * Both DTLS ends of this run live in this process (the E2E pair): the DTLS
   * client may send its hello as soon as the server end exists, instead of
   * after werift's blind 100 ms wait (a hello sent before the server exists is
   * lost and costs a 500 ms retransmission, which is why werift waits).
   */
  sameProcessDtls?: boolean;
  allocations: AllocationEvent[];
  /** Allocations retried from a fresh local port after a 437. */
  mismatchRetries: number;
  onAllocation?: (e: AllocationEvent) => void;
  /** @internal resolves when a DTLS server end of this run has started */
  dtlsServer: { ready: Promise<void>; resolve: () => void };
  /** @internal live TURN clients and sockets of this run */
  turns: Set<TurnLike>;
  transports: Set<{ close: () => Promise<void> | void }>;
}

// The parts of werift's (untyped-for-us) internals this module touches.
interface TurnLike {
  transport: { type: TurnTransportType; closed?: boolean; onData?: (data: Buffer, addr: unknown) => void };
  server: [string, number];
  relayedAddress?: [string, number];
  integrityKey?: Buffer;
  refresh: (exp: number) => void;
  request: (msg: unknown, addr: [string, number], key?: unknown, opts?: unknown) => Promise<unknown>;
  connectionMade: () => Promise<void>;
  close: () => Promise<void>;
  __mxRefreshTimer?: NodeJS.Timeout;
  __mxClosed?: boolean;
}

const als = new AsyncLocalStorage<GuardContext>();
const W = werift as unknown as Record<string, any>;
const DEALLOC_DEADLINE_MS = 600;
/** New local ports tried after a 437 (allocation mismatch) before it is final. */
const MISMATCH_RETRIES = 2;

export function newGuardContext(onAllocation?: (e: AllocationEvent) => void): GuardContext {
  let resolve!: () => void;
  const ready = new Promise<void>((r) => (resolve = r));
  return { closed: false, allocations: [], mismatchRetries: 0, onAllocation, dtlsServer: { ready, resolve }, turns: new Set(), transports: new Set() };
}

/** Run fn with werift's TURN activity attributed to ctx. */
export function runGuarded<T>(ctx: GuardContext, fn: () => Promise<T>): Promise<T> {
  installWeriftPatches();
  return als.run(ctx, fn);
}

/** Close everything ctx still holds: allocations are deleted, sockets closed, late starts refused. */
export async function closeGuarded(ctx: GuardContext): Promise<void> {
  ctx.closed = true;
  await Promise.allSettled([...ctx.turns].map((t) => t.close()));
  await Promise.allSettled([...ctx.transports].map(async (t) => t.close()));
  ctx.turns.clear();
  ctx.transports.clear();
}

let installed = false;

export class RefusedAfterClose extends Error {
  constructor() {
    super('probe already finished');
    this.name = 'RefusedAfterClose';
  }
}

/** Every werift adaptation, once per process: the guard's own and the DTLS flight fix (index.ts PATCHES lists them). */
export function installWeriftPatches(): void {
  if (installed) return;
  installed = true;
  installDtlsFlightFix();
  const Turn = W.TurnProtocol;
  if (typeof Turn?.prototype?.connectionMade !== 'function' || typeof Turn.prototype.close !== 'function') {
    throw new Error('werift TurnProtocol has an unexpected shape: update src/webrtc/werift/guard.ts');
  }
  for (const name of ['UdpTransport', 'TcpTransport', 'TlsTransport']) {
    const cls = W[name];
    if (typeof cls?.prototype?.init !== 'function') {
      throw new Error(`werift ${name} has an unexpected shape: update src/webrtc/werift/guard.ts`);
    }
    const origInit = cls.prototype.init;
    cls.prototype.init = async function patchedInit(this: { close: () => Promise<void> }, ...args: unknown[]) {
      const ctx = als.getStore();
      if (ctx) {
        if (ctx.closed) {
          await Promise.resolve(this.close()).catch(() => undefined);
          throw new RefusedAfterClose();
        }
        ctx.transports.add(this);
        if (ctx.udp6 && name === 'UdpTransport') useUdp6(this as unknown as UdpLike);
      }
      try {
        const r = await origInit.apply(this, args);
        if (name !== 'UdpTransport') noDelay(this);
        return r;
      } catch (err) {
        // e.g. ECONNREFUSED or a certificate error: werift would just gather nothing
        const type = (this as unknown as { type?: TurnTransportType }).type ?? 'udp';
        report(ctx, { transport: type, ok: false, ...classify(err) });
        throw err;
      }
    };
  }

  const origConnectionMade = Turn.prototype.connectionMade;
  Turn.prototype.connectionMade = async function patchedConnectionMade(this: TurnLike) {
    const ctx = als.getStore();
    this.refresh = (exp: number) => scheduleRefresh(this, exp);
    const transport = this.transport.type;
    if (ctx) {
      if (ctx.closed) {
        await this.close().catch(() => undefined);
        throw new RefusedAfterClose();
      }
      ctx.turns.add(this);
    }
    let rejected: number | undefined;
    let unsniff = () => undefined as void;
    for (let attempt = 0; ; attempt++) {
      try {
        const pending: Promise<void> = origConnectionMade.call(this);
        // werift drops the error answer to its authenticated Allocate (no
        // MESSAGE-INTEGRITY on it) and waits ~6 s for a timeout. Watch the wire.
        unsniff = sniffAllocateErrors(this, (code) => {
          rejected = code;
          failTransactions(this);
        });
        await pending;
        unsniff();
        break;
      } catch (err) {
        unsniff();
        const why = rejected ? { kind: 'rejected' as const, errorCode: rejected } : classify(err);
        // 437: this local port still has an allocation on the server (the kernel
        // handed us a port a just-closed socket used; coturn frees a deleted
        // allocation ~1 s late). RFC 8656 s7.2: retry from another local address.
        if (why.errorCode === 437 && attempt < MISMATCH_RETRIES && !ctx?.closed && (await rebindUdp(this))) {
          rejected = undefined;
          if (ctx) ctx.mismatchRetries += 1;
          continue;
        }
        report(ctx, { transport, ok: false, ...why });
        await this.close().catch(() => undefined);
        throw err;
      }
    }
    const r = this.relayedAddress;
    report(ctx, { transport, ok: true, relayed: r ? `${r[0]}:${r[1]}` : undefined });
    if (ctx?.closed) {
      await this.close().catch(() => undefined);
      throw new RefusedAfterClose();
    }
  };

  patchDtlsStart();

  const origClose = Turn.prototype.close;
  Turn.prototype.close = async function patchedClose(this: TurnLike) {
    if (this.__mxClosed) return;
    this.__mxClosed = true;
    if (this.__mxRefreshTimer) clearTimeout(this.__mxRefreshTimer);
    failTransactions(this, true); // their retransmission timers would outlive the probe
    if (this.relayedAddress && this.integrityKey && !this.transport.closed) {
      await requestRefresh(this, 0, 1).catch(() => undefined);
    }
    await origClose.call(this);
  };
}

// Only an error to a live *authenticated* Allocate is a verdict on our
// credentials. Keyed by transaction, not counted: under load werift (RTO 50 ms)
// retransmits its first, unauthenticated Allocate, and the server answers every
// copy with 401; a stale copy arriving after the authenticated Allocate went out
// is not a rejection of it. Unauthenticated answers are werift's to handle.
/** Returns the undo: the relay's data path runs without the sniffer once the Allocate is settled. */
function sniffAllocateErrors(turn: TurnLike, onRejected: (code: number) => void): () => void {
  const inner = turn.transport.onData;
  if (typeof inner !== 'function') return () => undefined;
  const stream = turn.transport.type !== 'udp';
  let pending = Buffer.alloc(0);
  const inspect = (frame: Buffer) => {
    try {
      const msg = W.parseMessage(frame);
      if (msg && msg.messageMethod === W.methods.ALLOCATE && msg.messageClass === W.classes.ERROR) {
        const tx = (turn as unknown as { transactions?: Record<string, { integrityKey?: unknown; ended?: boolean }> }).transactions?.[msg.transactionIdHex];
        if (tx && tx.integrityKey && !tx.ended) {
          const ec = msg.getAttributeValue('ERROR-CODE');
          onRejected(Array.isArray(ec) && typeof ec[0] === 'number' ? ec[0] : 0);
        }
      }
    } catch {
      // not a STUN message (ChannelData): werift handles it
    }
  };
  const sniffer = (data: Buffer, addr: unknown) => {
    if (!stream) inspect(data);
    else {
      // A stream chunk may hold several messages (a stale 401 and the real one) or part of one.
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const n = streamFrameLength(pending);
        if (n === 0 || n > pending.length) break;
        inspect(pending.subarray(0, n));
        pending = pending.subarray(n);
      }
      if (pending.length > 65536 + 20) pending = Buffer.alloc(0); // not our framing: stop looking
    }
    inner(data, addr);
  };
  turn.transport.onData = sniffer;
  return () => {
    if (turn.transport.onData === sniffer) turn.transport.onData = inner;
  };
}

/** Length of the first STUN message or ChannelData frame (padded to 4 on streams) in buf; 0 if unknown yet. */
function streamFrameLength(buf: Buffer): number {
  if (buf.length < 4) return 0;
  const len = buf.readUInt16BE(2);
  if ((buf[0]! & 0xc0) === 0) return 20 + len; // STUN: header + attributes (already 4-aligned)
  if ((buf[0]! & 0xc0) === 0x40) return 4 + ((len + 3) & ~3); // ChannelData, padded on streams (RFC 8656 s12.5)
  return 0;
}

function failTransactions(turn: TurnLike, skipRefresh = false): void {
  const txs = (turn as unknown as { transactions?: Record<string, { failWithTimeout?: () => void; request?: { messageMethod?: number } }> }).transactions;
  for (const t of Object.values(txs ?? {})) {
    if (skipRefresh && t.request?.messageMethod === W.methods.REFRESH) continue;
    t.failWithTimeout?.();
  }
}

// TURN over TCP/TLS carries DTLS flights as several small writes; with Nagle on,
// each waits for the server's delayed ACK (40 ms on Linux). Browsers set
// TCP_NODELAY on their TURN connections; werift does not.
function noDelay(transport: unknown): void {
  const sock = (transport as { stream?: { client?: { setNoDelay?: (on: boolean) => void } } }).stream?.client;
  try {
    sock?.setNoDelay?.(true);
  } catch {
    // a socket that is already gone: nothing to tune
  }
}

interface DtlsTransportLike {
  state: string;
  dtls?: { connect: (...a: unknown[]) => Promise<void> };
}

// werift's RTCDtlsTransport.start builds its DtlsServer/DtlsClient synchronously
// and then (client role) waits a fixed 100 ms before connect(). In a run with
// sameProcessDtls, start the client as soon as the server end exists; werift's
// own later connect() becomes the same call. Elsewhere nothing changes.
function patchDtlsStart(): void {
  const Dtls = W.RTCDtlsTransport;
  if (typeof Dtls?.prototype?.start !== 'function' || typeof W.DtlsClient !== 'function' || typeof W.DtlsServer !== 'function') {
    return; // an unexpected shape only costs speed: keep werift's behaviour
  }
  const origStart = Dtls.prototype.start;
  Dtls.prototype.start = function patchedStart(this: DtlsTransportLike, ...args: unknown[]) {
    const ctx = als.getStore();
    const started: Promise<void> = origStart.apply(this, args);
    const d = this.dtls;
    if (!ctx?.sameProcessDtls || !d) return started;
    if (d instanceof W.DtlsServer) ctx.dtlsServer.resolve();
    else if (d instanceof W.DtlsClient) {
      const origConnect = d.connect;
      let once: Promise<void> | undefined;
      d.connect = (...a: unknown[]) => (once ??= origConnect.apply(d, a));
      void ctx.dtlsServer.ready.then(() => {
        if (!ctx.closed && this.state === 'connecting') d.connect().catch(() => undefined); // werift's own call reports errors
      });
    }
    return started;
  };
}

interface UdpLike {
  type: string;
  socketType: string;
  socket: Socket;
  closed?: boolean;
  options?: { interfaceAddresses?: Record<string, string> };
}

/**
 * Move a UDP TURN transport to a fresh local port (same listeners). The new
 * socket is bound before the old one closes, so the kernel cannot hand the
 * same port back. False for stream transports (a new connection is a new
 * 5-tuple anyway, and coturn frees a TCP allocation with its connection).
 */
async function rebindUdp(turn: TurnLike): Promise<boolean> {
  const t = turn.transport as unknown as UdpLike;
  if (t.type !== 'udp' || t.closed || !t.socket) return false;
  const old = t.socket;
  const fresh = createSocket(t.socketType === 'udp6' ? 'udp6' : 'udp4');
  for (const l of old.listeners('message') as Array<(...a: unknown[]) => void>) fresh.on('message', l);
  try {
    await new Promise<void>((resolve, reject) => {
      fresh.once('error', reject);
      fresh.bind({ address: t.options?.interfaceAddresses?.[t.socketType] }, () => {
        fresh.off('error', reject);
        resolve();
      });
    });
  } catch {
    fresh.close();
    return false;
  }
  t.socket = fresh;
  old.close();
  return true;
}

// werift creates its TURN/UDP socket as udp4 in the constructor (can never reach an
// IPv6 server); before it binds, replace it by a udp6 socket with the same listeners.
function useUdp6(t: UdpLike): void {
  if (t.socketType !== 'udp4') return;
  const listeners = t.socket.listeners('message') as Array<(...a: unknown[]) => void>;
  t.socket.close();
  t.socketType = 'udp6';
  t.socket = createSocket('udp6');
  for (const l of listeners) t.socket.on('message', l);
}

function report(ctx: GuardContext | undefined, e: AllocationEvent): void {
  if (!ctx) return;
  ctx.allocations.push(e);
  try {
    ctx.onAllocation?.(e);
  } catch {
    // a listener's bug must not break werift's promise chain
  }
}

/** Turn a werift/socket error into data, never text that could carry secrets. */
export function classify(err: unknown): Pick<AllocationEvent, 'kind' | 'errorCode' | 'socketError'> {
  const e = err as { response?: { getAttributeValue?: (n: string) => unknown }; code?: unknown; constructor?: { name?: string } };
  const ec = e?.response?.getAttributeValue?.('ERROR-CODE');
  if (Array.isArray(ec) && typeof ec[0] === 'number') return { kind: 'rejected', errorCode: ec[0] };
  if (e?.constructor?.name === 'TransactionTimeout') return { kind: 'timeout' };
  if (typeof e?.code === 'string') return { kind: 'socket', socketError: e.code };
  return { kind: 'socket', socketError: e?.constructor?.name ?? 'unknown' };
}

function requestRefresh(turn: TurnLike, lifetime: number, retransmissions: number): Promise<unknown> {
  const msg = new W.Message(W.methods.REFRESH, W.classes.REQUEST);
  msg.setAttribute('LIFETIME', lifetime);
  return turn.request(msg, turn.server, undefined, {
    retransmissions,
    signal: AbortSignal.timeout(DEALLOC_DEADLINE_MS),
  });
}

// werift's own loop awaits an un-cancellable 500 s timer; this one is unref'd and cleared on close.
function scheduleRefresh(turn: TurnLike, exp: number): void {
  if (turn.__mxClosed || !(exp > 0)) return;
  const t = setTimeout(() => {
    requestRefresh(turn, exp, 3)
      .then((res) => {
        const next = (res as [{ getAttributeValue: (n: string) => unknown }])?.[0]?.getAttributeValue?.('LIFETIME');
        scheduleRefresh(turn, typeof next === 'number' ? next : exp);
      })
      .catch(() => scheduleRefresh(turn, exp));
  }, (5 / 6) * exp * 1000);
  t.unref();
  turn.__mxRefreshTimer = t;
}
