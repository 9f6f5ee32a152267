// A TURN client (RFC 8656) over UDP, TCP or TLS, built for diagnosis:
// typed failures, short deadlines, evidence kept (SOFTWARE, REALM, sizes),
// and a cheap data path (one Buffer per packet, no logging).
import { EventEmitter } from 'node:events';
import { randomFillSync } from 'node:crypto';
import type { Secret } from '../secret';
import type { Family, Transport as TransportKind } from '../types';
import { ATTR, CHANNEL_MAX, CHANNEL_MIN, FAMILY_CODE, MAGIC_COOKIE, METHOD, methodName, TRANSPORT_PROTOCOL } from '../stun/constants';
import { StunParseError } from '../stun/errors';
import { decodeStun, StunMessageBuilder, type StunMessage } from '../stun/message';
import {
  decodeAddress,
  decodeAddressErrorCode,
  encodeAddress,
  encodeChannelNumber,
  encodeEvenPort,
  encodeFamily,
  encodeRequestedTransport,
  encodeUint32,
  getAddress,
  getErrorCode,
  getText,
  getUint32,
  type ErrorCodeValue,
} from '../stun/attributes';
import { encodeChannelData, isChannelNumber } from '../stun/channel-data';
import { longTermKey, verifyIntegrity, type CheckResult } from '../stun/integrity';
import { ipToBytes, parseHostPort, canonicalIp, type TransportAddress } from '../stun/ip';
import { TurnError } from './errors';
import { openTransport, type StunTransport, type Timings, type TransportOptions } from './transport';
import { Transactions, type TransactionTiming } from './transaction';
import type { TlsInfo } from './tls-info';
import { isIP } from 'node:net';

export interface TurnClientOptions extends TransportOptions {
  /** Long-term credentials; without them only binding() and unauthenticated allocate() work. */
  username?: string;
  password?: Secret;
  /** SOFTWARE we put in requests (default 'mx-voiptest'; null: none). */
  software?: string | null;
  /** UDP initial RTO (default 250 ms). */
  rtoMs?: number;
  /** Per-request deadline (default 1800 ms on UDP, 2500 ms on TCP/TLS). */
  timeoutMs?: number;
  /** The run's end (performance.now() time): no request waits past it, whenever it is sent. */
  deadlineAt?: number;
  /** UDP transmissions per request (default 7; the deadline usually ends it first). */
  maxTransmissions?: number;
  /** Add FINGERPRINT to requests (default true). */
  fingerprint?: boolean;
}

export interface AllocateOptions {
  requestedTransport?: 'udp' | 'tcp';
  /** REQUESTED-ADDRESS-FAMILY (RFC 8656); omitted when not given (the server picks, usually IPv4). */
  family?: Family;
  /** ADDITIONAL-ADDRESS-FAMILY: ask for a second relay of the other family (dual allocation). */
  additionalFamily?: Family;
  lifetime?: number;
  dontFragment?: boolean;
  evenPort?: boolean;
  reservationToken?: Buffer;
  /** Default: true when the client has credentials. False sends only the unauthenticated request (AUTH-1). */
  withCredentials?: boolean;
  /** Per-request deadline (default: the client's). */
  timeoutMs?: number;
}

export interface AllocateResult {
  relayed: TransportAddress;
  /** Every XOR-RELAYED-ADDRESS (two with a dual allocation). */
  relayedAll: TransportAddress[];
  mapped: TransportAddress | null;
  lifetime: number | null;
  realm: string | null;
  nonce: string | null;
  /** SOFTWARE of the last response seen on this client (any response). */
  software: string | null;
  /** False when the server allocated without asking for credentials (an open relay). */
  authenticated: boolean;
  reservationToken: Buffer | null;
  /** ADDRESS-ERROR-CODE: the server could not give the additional family. */
  addressError: (ErrorCodeValue & { family: Family | number }) | null;
  /** MESSAGE-INTEGRITY of the success response under our key. */
  responseIntegrity: CheckResult;
  /** Wall time of the whole exchange (challenge included). */
  elapsedMs: number;
  /** Requests sent (1 without challenge, 2 with, 3 after a stale nonce). */
  requests: number;
}

export interface BindingOptions {
  /** Include our SOFTWARE (default false: a bare 20-byte request, for honest size ratios). */
  software?: boolean;
  fingerprint?: boolean;
  timeoutMs?: number;
}

export interface BindingResult {
  /** XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from an RFC 3489-style server. */
  mapped: TransportAddress | null;
  mappedFrom: 'xor-mapped-address' | 'mapped-address' | null;
  software: string | null;
  requestSize: number;
  responseSize: number;
  otherAddress: TransportAddress | null;
  responseOrigin: TransportAddress | null;
  hasOtherAddress: boolean;
  hasResponseOrigin: boolean;
  rttMs: number;
  transmissions: number;
  response: StunMessage;
}

export interface RequestOptions {
  /** Add USERNAME/REALM/NONCE/MESSAGE-INTEGRITY (needs a previous challenge). */
  auth?: boolean;
  timeoutMs?: number;
  rtoMs?: number;
  software?: boolean;
  fingerprint?: boolean;
}

export interface Exchange {
  response: StunMessage;
  rttMs: number;
  transmissions: number;
  requestSize: number;
  integrity: CheckResult;
  requests: number;
}

/** An error response as a value (see TurnClient.exchange). */
interface Refusal {
  error: { code: number; reason: string };
  errorResponse: StunMessage;
}

function errorResponseError(method: string, r: Refusal): TurnError {
  return new TurnError('error-response', `${method} failed with ${r.error.code}`, { code: r.error.code, method, reason: r.error.reason, response: r.errorResponse });
}

export type PeerLike = string | { address: string; port: number };
export type DataListener = (data: Buffer, from: TransportAddress, channel: number | null) => void;

interface Peer {
  addr: TransportAddress;
  ip: Buffer;
  familyCode: number;
}

export declare interface TurnClient {
  on(event: 'data', listener: DataListener): this;
  on(event: 'close', listener: (err: TurnError | null) => void): this;
  once(event: 'data', listener: DataListener): this;
  once(event: 'close', listener: (err: TurnError | null) => void): this;
}

export class TurnClient extends EventEmitter {
  private transportRef!: StunTransport;
  private tx!: Transactions;
  private readonly timing: TransactionTiming;
  private realmValue: string | null = null;
  private nonceValue: string | null = null;
  private key: Buffer | null = null;
  private softwareSeen: string | null = null;
  private allocated = false;
  private dead = false;
  private closing: Promise<void> | null = null;
  private fatalError: TurnError | null = null;
  private readonly channels = new Map<number, TransportAddress>();
  private readonly pendingChannels = new Set<number>();
  private readonly peerCache = new Map<string, Peer>();
  private readonly peerObjCache = new WeakMap<object, Peer>();
  private readonly indicationTid = randomFillSync(Buffer.allocUnsafe(8));
  private indicationCounter = 0;
  /** Cheap counters for benchmarks and evidence. */
  readonly stats = { sent: 0, received: 0, dropped: 0, garbage: 0 };

  private constructor(private readonly opts: TurnClientOptions) {
    super();
    const stream = opts.transport !== 'udp';
    this.timing = {
      rtoMs: opts.rtoMs ?? 250,
      timeoutMs: opts.timeoutMs ?? (stream ? 2500 : 1800),
      maxTransmissions: opts.maxTransmissions ?? 7,
    };
  }

  /** A request's timeout, never past the run's end (a request sent late gets what is left). */
  private capped(ms: number): number {
    return this.opts.deadlineAt === undefined ? ms : Math.max(1, Math.min(ms, this.opts.deadlineAt - performance.now()));
  }

  /** Connect (UDP: bind+connect; TCP: connect; TLS: connect+handshake). Throws TurnError. */
  static async connect(opts: TurnClientOptions): Promise<TurnClient> {
    const c = new TurnClient(opts);
    c.transportRef = await openTransport(
      opts,
      {
        stun: (f) => c.onStun(f),
        channelData: (ch, d) => c.onChannelData(ch, d),
        garbage: () => {
          c.stats.garbage++;
          c.tx.garbageSeen++;
        },
        fatal: (e) => c.onFatal(e),
      },
      (ch) => c.channels.has(ch) || c.pendingChannels.has(ch),
    );
    c.tx = new Transactions((p) => c.transportRef.send(p), c.transportRef.stream);
    return c;
  }

  get transport(): TransportKind {
    return this.opts.transport;
  }
  get local(): TransportAddress {
    return this.transportRef.local;
  }
  get remote(): TransportAddress {
    return this.transportRef.remote;
  }
  get timings(): Timings {
    return this.transportRef.timings;
  }
  get tls(): TlsInfo | null {
    return this.transportRef.tls;
  }
  get software(): string | null {
    return this.softwareSeen;
  }
  get realm(): string | null {
    return this.realmValue;
  }
  get nonce(): string | null {
    return this.nonceValue;
  }
  get closed(): boolean {
    return this.dead;
  }
  get hasAllocation(): boolean {
    return this.allocated;
  }
  get boundChannels(): ReadonlyMap<number, TransportAddress> {
    return this.channels;
  }

  // ---------- requests ----------

  /** STUN Binding request on this transport. */
  async binding(o: BindingOptions = {}): Promise<BindingResult> {
    const ex = await this.request(METHOD.Binding, [], {
      auth: false,
      software: o.software ?? false,
      fingerprint: o.fingerprint ?? false,
      timeoutMs: o.timeoutMs,
    });
    const m = ex.response;
    return this.parsed('Binding', m, () => {
      const xor = getAddress(m, ATTR.XOR_MAPPED_ADDRESS) ?? null;
      const legacy = xor ? null : (getAddress(m, ATTR.MAPPED_ADDRESS) ?? null);
      return {
        mapped: xor ?? legacy,
        mappedFrom: xor ? 'xor-mapped-address' : legacy ? 'mapped-address' : null,
        software: getText(m, ATTR.SOFTWARE) ?? null,
        requestSize: ex.requestSize,
        responseSize: m.raw.length,
        otherAddress: getAddress(m, ATTR.OTHER_ADDRESS) ?? null,
        responseOrigin: getAddress(m, ATTR.RESPONSE_ORIGIN) ?? null,
        hasOtherAddress: m.has(ATTR.OTHER_ADDRESS),
        hasResponseOrigin: m.has(ATTR.RESPONSE_ORIGIN),
        rttMs: ex.rttMs,
        transmissions: ex.transmissions,
        response: m,
      };
    });
  }

  /** Allocate with the long-term credential dance (401 challenge, one retry on 438). */
  async allocate(o: AllocateOptions = {}): Promise<AllocateResult> {
    const withCreds = o.withCredentials ?? this.opts.username !== undefined;
    if (withCreds && (this.opts.username === undefined || this.opts.password === undefined)) {
      throw new TypeError('allocate with credentials needs username and password');
    }
    const attrs: { type: number; value: Buffer }[] = [
      { type: ATTR.REQUESTED_TRANSPORT, value: encodeRequestedTransport(TRANSPORT_PROTOCOL[o.requestedTransport ?? 'udp']) },
    ];
    if (o.family) attrs.push({ type: ATTR.REQUESTED_ADDRESS_FAMILY, value: encodeFamily(o.family) });
    if (o.additionalFamily) attrs.push({ type: ATTR.ADDITIONAL_ADDRESS_FAMILY, value: encodeFamily(o.additionalFamily) });
    if (o.lifetime !== undefined) attrs.push({ type: ATTR.LIFETIME, value: encodeUint32(o.lifetime) });
    if (o.dontFragment) attrs.push({ type: ATTR.DONT_FRAGMENT, value: Buffer.alloc(0) });
    if (o.evenPort !== undefined) attrs.push({ type: ATTR.EVEN_PORT, value: encodeEvenPort(o.evenPort) });
    if (o.reservationToken) attrs.push({ type: ATTR.RESERVATION_TOKEN, value: o.reservationToken });

    const t0 = performance.now();
    let ex: Exchange;
    let requests = 0;
    let authenticated = false;
    if (withCreds && this.key) {
      ex = await this.request(METHOD.Allocate, attrs, { auth: true, timeoutMs: o.timeoutMs });
      authenticated = true;
    } else {
      const first = await this.exchange(METHOD.Allocate, attrs, { auth: false, timeoutMs: o.timeoutMs });
      if ('response' in first) ex = first;
      else {
        const { error, errorResponse: challenge } = first;
        if (!withCreds || error.code !== 401) {
          throw errorResponseError('Allocate', first);
        }
        requests += 1;
        const realm = this.parsed('Allocate', challenge, () => getText(challenge, ATTR.REALM));
        const nonce = this.parsed('Allocate', challenge, () => getText(challenge, ATTR.NONCE));
        if (realm === undefined || nonce === undefined) {
          throw new TurnError('protocol', 'Allocate: 401 challenge without REALM or NONCE', {
            code: 401,
            method: 'Allocate',
            response: challenge,
            reason: error.reason,
          });
        }
        this.setChallenge(realm, nonce);
        ex = await this.request(METHOD.Allocate, attrs, { auth: true, timeoutMs: o.timeoutMs });
        authenticated = true;
      }
    }
    requests += ex.requests;
    const m = ex.response;
    const result = this.parsed('Allocate', m, () => {
      const relayedAll = m.attributes
        .filter((a) => a.type === ATTR.XOR_RELAYED_ADDRESS)
        .map((a) => decodeAddress(m.valueOf(a), m.transactionId));
      const aec = m.get(ATTR.ADDRESS_ERROR_CODE);
      const token = m.get(ATTR.RESERVATION_TOKEN);
      return {
        relayed: relayedAll[0],
        relayedAll,
        mapped: getAddress(m, ATTR.XOR_MAPPED_ADDRESS) ?? null,
        lifetime: getUint32(m, ATTR.LIFETIME) ?? null,
        realm: this.realmValue,
        nonce: this.nonceValue,
        software: this.softwareSeen,
        authenticated,
        reservationToken: token ? Buffer.from(token) : null,
        addressError: aec ? decodeAddressErrorCode(aec) : null,
        responseIntegrity: ex.integrity,
        elapsedMs: performance.now() - t0,
        requests,
      };
    });
    if (!result.relayed) {
      throw new TurnError('protocol', 'Allocate success without XOR-RELAYED-ADDRESS', { method: 'Allocate', response: m });
    }
    this.allocated = true;
    return result;
  }

  /** Refresh the allocation; 0 deletes it. Returns the granted lifetime (seconds). */
  async refresh(lifetime?: number, timing?: { timeoutMs?: number; rtoMs?: number }): Promise<number> {
    const attrs = lifetime === undefined ? [] : [{ type: ATTR.LIFETIME, value: encodeUint32(lifetime) }];
    const ex = await this.request(METHOD.Refresh, attrs, { auth: this.key !== null, ...timing });
    const granted = this.parsed('Refresh', ex.response, () => getUint32(ex.response, ATTR.LIFETIME)) ?? lifetime ?? 0;
    if (lifetime === 0) this.allocated = false;
    return granted;
  }

  /** One CreatePermission for all peers (IP literals, or ip:port whose port is ignored by TURN). */
  async createPermission(peers: PeerLike[]): Promise<void> {
    if (peers.length === 0) throw new TypeError('createPermission needs at least one peer');
    const attrs = peers.map((p) => {
      const peer = typeof p === 'string' && isIP(p) ? { address: canonicalIp(p), port: 0 } : this.peerOf(p).addr;
      return { type: ATTR.XOR_PEER_ADDRESS, value: peer };
    });
    // XOR needs the transaction id: encode inside request() via the builder hook.
    await this.request(METHOD.CreatePermission, [], { auth: this.key !== null }, (b) => {
      for (const a of attrs) b.add(a.type, encodeAddress(a.value, b.transactionId));
    });
  }

  /** Bind a channel (0x4000-0x7FFF) to a peer (ip:port); ChannelData from it then arrives with `channel` set. */
  async channelBind(channel: number, peer: PeerLike): Promise<void> {
    if (!isChannelNumber(channel)) throw new RangeError(`channel must be ${CHANNEL_MIN}-${CHANNEL_MAX}`);
    const p = this.peerOf(peer);
    this.pendingChannels.add(channel);
    try {
      await this.request(METHOD.ChannelBind, [{ type: ATTR.CHANNEL_NUMBER, value: encodeChannelNumber(channel) }], { auth: this.key !== null }, (b) =>
        b.add(ATTR.XOR_PEER_ADDRESS, encodeAddress(p.addr, b.transactionId)),
      );
      this.channels.set(channel, p.addr);
    } finally {
      this.pendingChannels.delete(channel);
    }
  }

  /**
   * Any request, for probes that need something unusual. Resolves with the
   * success response; an error response throws TurnError('error-response')
   * (after one transparent retry on 438 when auth is on).
   */
  async request(
    method: number,
    attributes: { type: number; value: Buffer }[],
    o: RequestOptions = {},
    extra?: (b: StunMessageBuilder) => void,
  ): Promise<Exchange> {
    const r = await this.exchange(method, attributes, o, extra);
    if ('response' in r) return r;
    throw errorResponseError(methodName(method), r);
  }

  /**
   * `request` without the throw: an error response comes back as a value.
   * The expected 401 of every Allocate goes this way (an exception with its
   * stack trace cost more than the rest of the turnaround).
   */
  private async exchange(
    method: number,
    attributes: { type: number; value: Buffer }[],
    o: RequestOptions = {},
    extra?: (b: StunMessageBuilder) => void,
  ): Promise<Exchange | Refusal> {
    this.assertOpen();
    const name = methodName(method);
    if (o.auth && !this.key) throw new TypeError(`${name}: authenticated request before any 401 challenge`);
    const timing: TransactionTiming = {
      rtoMs: o.rtoMs ?? this.timing.rtoMs,
      timeoutMs: this.capped(o.timeoutMs ?? this.timing.timeoutMs),
      maxTransmissions: this.timing.maxTransmissions,
    };
    for (let attempt = 1; ; attempt++) {
      const b = new StunMessageBuilder(method, 'request');
      for (const a of attributes) b.add(a.type, a.value);
      extra?.(b);
      const sw = this.opts.software === undefined ? 'mx-voiptest' : this.opts.software;
      if (sw && (o.software ?? true)) b.add(ATTR.SOFTWARE, Buffer.from(sw, 'utf8'));
      const key = o.auth ? this.key! : undefined;
      if (o.auth) {
        b.add(ATTR.USERNAME, Buffer.from(this.opts.username!, 'utf8'));
        b.add(ATTR.REALM, Buffer.from(this.realmValue!, 'utf8'));
        b.add(ATTR.NONCE, Buffer.from(this.nonceValue!, 'utf8'));
      }
      const packet = b.build({ integrityKey: key, fingerprint: o.fingerprint ?? this.opts.fingerprint ?? true });
      const r = await this.tx.request(packet, b.transactionId, method, timing);
      const m = r.response;
      if (m.method !== method) {
        throw new TurnError('protocol', `${name}: answered with method ${m.methodName}`, { method: name, response: m });
      }
      if (m.cls === 'success') {
        return {
          response: m,
          rttMs: r.rttMs,
          transmissions: r.transmissions,
          requestSize: packet.length,
          integrity: key ? verifyIntegrity(m, key) : 'absent',
          requests: attempt,
        };
      }
      const ec = this.parsed(name, m, () => getErrorCode(m));
      if (!ec) throw new TurnError('protocol', `${name}: error response without ERROR-CODE`, { method: name, response: m });
      if (ec.code === 438 && o.auth && attempt === 1) {
        const nonce = this.parsed(name, m, () => getText(m, ATTR.NONCE));
        const realm = this.parsed(name, m, () => getText(m, ATTR.REALM));
        if (nonce !== undefined) {
          this.setChallenge(realm ?? this.realmValue!, nonce);
          continue;
        }
      }
      return { error: ec, errorResponse: m };
    }
  }

  // ---------- data path ----------

  /** Send indication to a peer. False when the client is closed. */
  send(peer: PeerLike, data: Buffer): boolean {
    if (this.dead) return false;
    const p = this.peerOf(peer);
    const ipLen = p.ip.length;
    const attrLen = 8 + ipLen + 4 + ((data.length + 3) & ~3);
    const buf = Buffer.allocUnsafe(20 + attrLen);
    buf.writeUInt16BE(0x0016, 0); // Send indication
    buf.writeUInt16BE(attrLen, 2);
    buf.writeUInt32BE(MAGIC_COOKIE, 4);
    this.indicationTid.copy(buf, 8);
    this.indicationCounter = (this.indicationCounter + 1) >>> 0;
    buf.writeUInt32BE(this.indicationCounter, 16);
    let o = 20;
    buf.writeUInt16BE(ATTR.XOR_PEER_ADDRESS, o);
    buf.writeUInt16BE(4 + ipLen, o + 2);
    buf[o + 4] = 0;
    buf[o + 5] = p.familyCode;
    buf.writeUInt16BE(p.addr.port ^ (MAGIC_COOKIE >>> 16), o + 6);
    // The XOR key is the cookie followed by the transaction id: header bytes 4..19.
    for (let i = 0; i < ipLen; i++) buf[o + 8 + i] = p.ip[i] ^ buf[4 + i];
    o += 8 + ipLen;
    buf.writeUInt16BE(ATTR.DATA, o);
    buf.writeUInt16BE(data.length, o + 2);
    data.copy(buf, o + 4);
    const end = o + 4 + data.length;
    if (end < buf.length) buf.fill(0, end);
    this.transportRef.send(buf);
    this.stats.sent++;
    return true;
  }

  /** ChannelData on a bound channel (padded on TCP/TLS). False when the client is closed. */
  sendChannel(channel: number, data: Buffer): boolean {
    if (this.dead) return false;
    this.transportRef.send(encodeChannelData(channel, data, this.transportRef.stream));
    this.stats.sent++;
    return true;
  }

  // ---------- teardown ----------

  /** Delete the allocation (Refresh LIFETIME=0, short deadline, failure ignored) and close. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.allocated && !this.dead) {
      try {
        await this.refresh(0, { timeoutMs: 600, rtoMs: 100 });
      } catch {
        // best effort: the allocation expires on its own
      }
    }
    const first = !this.dead;
    this.dead = true;
    this.transportRef.close();
    this.tx.failAll(new TurnError('closed', 'the client was closed', { phase: 'request' }));
    if (first) this.emit('close', null);
  }

  // ---------- incoming ----------

  private onStun(frame: Buffer): void {
    let m: StunMessage;
    try {
      m = decodeStun(frame);
    } catch (e) {
      if (!(e instanceof StunParseError)) throw e;
      this.stats.garbage++;
      if (this.tx) this.tx.garbageSeen++;
      return;
    }
    if (m.cls === 'indication') {
      if (m.method === METHOD.Data) this.onDataIndication(m);
      return;
    }
    const sw = m.get(ATTR.SOFTWARE);
    if (sw) this.softwareSeen = sw.toString('utf8').slice(0, 256);
    if (!this.tx.handle(m)) this.stats.dropped++;
  }

  private onDataIndication(m: StunMessage): void {
    const peer = m.get(ATTR.XOR_PEER_ADDRESS);
    const data = m.get(ATTR.DATA);
    if (!peer || !data) {
      this.stats.dropped++;
      return;
    }
    let from: TransportAddress;
    try {
      from = decodeAddress(peer, m.transactionId);
    } catch {
      this.stats.dropped++;
      return;
    }
    this.stats.received++;
    this.emit('data', data, from, null);
  }

  private onChannelData(channel: number, data: Buffer): void {
    const from = this.channels.get(channel);
    if (!from) {
      this.stats.dropped++;
      return;
    }
    this.stats.received++;
    this.emit('data', data, from, channel);
  }

  private onFatal(err: TurnError): void {
    if (this.dead) return;
    this.fatalError = err;
    this.dead = true;
    this.transportRef?.close();
    this.tx?.failAll(err);
    this.emit('close', err);
  }

  // ---------- helpers ----------

  private assertOpen(): void {
    if (this.dead) {
      throw this.fatalError ?? new TurnError('closed', 'the client is closed', { phase: 'request' });
    }
  }

  private setChallenge(realm: string, nonce: string): void {
    this.realmValue = realm;
    this.nonceValue = nonce;
    this.key = longTermKey(this.opts.username!, realm, this.opts.password!);
  }

  /** Run a decoder over a hostile server's message: malformed values become TurnError('protocol'). */
  private parsed<T>(method: string, m: StunMessage, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof StunParseError) {
        throw new TurnError('protocol', `${method}: malformed response (${e.message})`, { method, response: m });
      }
      throw e;
    }
  }

  private peerOf(p: PeerLike): Peer {
    if (typeof p === 'string') {
      let peer = this.peerCache.get(p);
      if (!peer) {
        peer = makePeer(parseHostPort(p));
        if (this.peerCache.size > 4096) this.peerCache.clear();
        this.peerCache.set(p, peer);
      }
      return peer;
    }
    let peer = this.peerObjCache.get(p);
    if (!peer) {
      peer = makePeer({ family: isIP(p.address) === 6 ? 'ipv6' : 'ipv4', address: canonicalIp(p.address), port: p.port });
      this.peerObjCache.set(p, peer);
    }
    return peer;
  }
}

function makePeer(addr: TransportAddress): Peer {
  const ip = ipToBytes(addr.address);
  return { addr, ip, familyCode: ip.length === 4 ? FAMILY_CODE.ipv4 : FAMILY_CODE.ipv6 };
}
