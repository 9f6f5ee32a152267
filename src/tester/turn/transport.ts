// The byte pipes under the TURN client: UDP (connected dgram socket), TCP and
// TLS (framed with StreamFramer). They hand up whole STUN messages and
// ChannelData frames, and report every failure once, as a TurnError.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Family, Transport as TransportKind } from '../types';
import { StreamFramer } from '../stun/framer';
import { decodeChannelData } from '../stun/channel-data';
import { StunParseError } from '../stun/errors';
import { canonicalIp, type TransportAddress } from '../stun/ip';
import { fromSocketError, TurnError } from './errors';
import { tlsInfoOf, type TlsInfo } from './tls-info';

export interface TlsOptions {
  /** Extra trusted CA certificates (PEM), e.g. a lab CA. */
  ca?: string | string[];
  /** SNI and the name the certificate must match; default: host when it is a name. */
  servername?: string;
  /** Default true: an unverified certificate fails with kind 'tls' (TlsInfo attached). */
  rejectUnauthorized?: boolean;
  minVersion?: tls.SecureVersion;
}

export interface TransportOptions {
  transport: TransportKind;
  /** IP literal or name (names are resolved by Node; prefer resolving yourself and passing tls.servername). */
  host: string;
  port: number;
  /** Forces the family when host is a name. */
  family?: Family;
  localAddress?: string;
  /** Bind this local port (default: any). Reusing a port reuses the 5-tuple (e.g. to check an allocation is gone). */
  localPort?: number;
  /** Deadline for TCP connect + TLS handshake (default 3000 ms); UDP has no connect. */
  connectTimeoutMs?: number;
  tls?: TlsOptions;
}

export interface TransportHandlers {
  stun(frame: Buffer): void;
  channelData(channel: number, data: Buffer): void;
  /** A datagram that is neither STUN nor ChannelData (UDP only; streams fail instead). */
  garbage(datagram: Buffer): void;
  /** Fatal; called at most once, then no more callbacks. */
  fatal(err: TurnError): void;
}

export interface Timings {
  connectMs: number | null;
  tlsMs: number | null;
}

export interface StunTransport {
  readonly kind: TransportKind;
  /** True for TCP/TLS: ChannelData must be padded, no retransmissions. */
  readonly stream: boolean;
  readonly local: TransportAddress;
  readonly remote: TransportAddress;
  readonly timings: Timings;
  readonly tls: TlsInfo | null;
  send(buf: Buffer): void;
  close(): void;
  readonly closed: boolean;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

function addressOf(a: { address?: string; port?: number }): TransportAddress {
  const address = a.address ? canonicalIp(a.address) : '0.0.0.0';
  return { family: net.isIPv6(address) ? 'ipv6' : 'ipv4', address, port: a.port ?? 0 };
}

/** Open a transport; resolves once it can carry STUN (UDP: connected, TLS: handshake done). */
export function openTransport(
  opts: TransportOptions,
  handlers: TransportHandlers,
  acceptChannel: (channel: number) => boolean,
): Promise<StunTransport> {
  if (opts.transport === 'udp') return openUdp(opts, handlers);
  return openStream(opts, handlers, acceptChannel);
}

function openUdp(opts: TransportOptions, h: TransportHandlers): Promise<StunTransport> {
  const v6 = net.isIPv6(opts.host) || (!net.isIP(opts.host) && opts.family === 'ipv6');
  const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4' });
  let closed = false;
  let ready = false;
  let failed = false;
  const fail = (err: TurnError) => {
    if (failed || closed) return;
    failed = true;
    h.fatal(err);
  };
  const t: StunTransport = {
    kind: 'udp',
    stream: false,
    local: addressOf({}),
    remote: addressOf({}),
    timings: { connectMs: null, tlsMs: null },
    tls: null,
    send(buf) {
      if (!closed) sock.send(buf);
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        sock.close();
      } catch {
        // already closed
      }
    },
    get closed() {
      return closed;
    },
  };
  sock.on('message', (msg) => {
    const b0 = msg[0];
    if (msg.length >= 20 && b0 < 0x40) return h.stun(msg);
    if (b0 >= 0x40 && b0 < 0x80) {
      try {
        const cd = decodeChannelData(msg);
        return h.channelData(cd.channel, cd.data);
      } catch (e) {
        if (!(e instanceof StunParseError)) throw e;
      }
    }
    h.garbage(msg);
  });
  return new Promise((resolve, reject) => {
    sock.on('error', (err) => {
      // ICMP port unreachable arrives as ECONNREFUSED on a connected socket.
      const te = fromSocketError(err, ready ? 'request' : 'connect');
      if (!ready) {
        closed = true;
        try {
          sock.close();
        } catch {
          // ignore
        }
        reject(te);
      } else fail(te);
    });
    const connect = () =>
      sock.connect(opts.port, opts.host, () => {
        ready = true;
        (t as { local: TransportAddress }).local = addressOf(sock.address());
        (t as { remote: TransportAddress }).remote = addressOf(sock.remoteAddress());
        resolve(t);
      });
    if (opts.localAddress || opts.localPort) sock.bind({ address: opts.localAddress, port: opts.localPort ?? 0 }, connect);
    else connect();
  });
}

// One SecureContext per CA set: building it parses every root certificate
// (native memory that only a full GC gives back), so never do that per connection.
const contexts = new Map<string, tls.SecureContext>();
function contextFor(ca: string | string[], minVersion: tls.SecureVersion): tls.SecureContext {
  const list = Array.isArray(ca) ? ca : [ca];
  const key = `${minVersion}\n${list.join('\n')}`;
  let c = contexts.get(key);
  if (!c) {
    c = tls.createSecureContext({ ca: [...tls.rootCertificates, ...list], minVersion });
    if (contexts.size > 16) contexts.clear();
    contexts.set(key, c);
  }
  return c;
}

function openStream(
  opts: TransportOptions,
  h: TransportHandlers,
  acceptChannel: (channel: number) => boolean,
): Promise<StunTransport> {
  const isTls = opts.transport === 'tls';
  const t0 = performance.now();
  const timings: Timings = { connectMs: null, tlsMs: null };
  const family = opts.family === 'ipv6' ? 6 : opts.family === 'ipv4' ? 4 : undefined;
  const servername = isTls ? (opts.tls?.servername ?? (net.isIP(opts.host) ? null : opts.host)) : null;
  let sock: net.Socket;
  if (isTls) {
    sock = tls.connect({
      host: opts.host,
      port: opts.port,
      family,
      localAddress: opts.localAddress,
      localPort: opts.localPort,
      ...(servername ? { servername } : {}),
      ...(opts.tls?.ca ? { secureContext: contextFor(opts.tls.ca, opts.tls.minVersion ?? 'TLSv1') } : {}),
      // We verify ourselves after the handshake so the certificate can be reported either way.
      rejectUnauthorized: false,
      minVersion: opts.tls?.minVersion ?? 'TLSv1',
      // Node checks the name against servername or host (IP SANs for literals).
      checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername ?? opts.host, cert),
    } as tls.ConnectionOptions); // `family` is passed through to net.connect
  } else {
    sock = net.connect({ host: opts.host, port: opts.port, family, localAddress: opts.localAddress, localPort: opts.localPort });
  }
  sock.setNoDelay(true);
  let closed = false;
  let failed = false;
  let ready = false;
  let tlsInfo: TlsInfo | null = null;
  const t: StunTransport = {
    kind: opts.transport,
    stream: true,
    local: addressOf({}),
    remote: addressOf({}),
    timings,
    get tls() {
      return tlsInfo;
    },
    send(buf) {
      if (!closed && !sock.destroyed) sock.write(buf);
    },
    close() {
      if (closed) return;
      closed = true;
      sock.destroy();
    },
    get closed() {
      return closed;
    },
  };
  const framer = new StreamFramer(
    {
      stun: (f) => h.stun(f),
      channelData: (c, d) => h.channelData(c, d),
      error: (e) => {
        fail(new TurnError('not-stun', `the server does not speak STUN on this port: ${e.message}`, { phase: 'request', tls: tlsInfo ?? undefined }));
        t.close();
      },
    },
    acceptChannel,
  );
  const fail = (err: TurnError) => {
    if (failed || closed) return;
    failed = true;
    h.fatal(err);
  };
  return new Promise((resolve, reject) => {
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      const phase = timings.connectMs === null ? 'connect' : 'tls';
      finishConnect(new TurnError('timeout', `${phase} timed out after ${timeoutMs} ms`, { phase, tls: tlsInfo ?? undefined }));
    }, timeoutMs);
    const finishConnect = (err?: TurnError) => {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      if (err) {
        closed = true;
        sock.destroy();
        reject(err);
        return;
      }
      (t as { local: TransportAddress }).local = addressOf({ address: sock.localAddress, port: sock.localPort });
      (t as { remote: TransportAddress }).remote = addressOf({ address: sock.remoteAddress, port: sock.remotePort });
      resolve(t);
    };
    sock.once('connect', () => {
      timings.connectMs = performance.now() - t0;
      if (!isTls) finishConnect();
    });
    if (isTls) {
      sock.once('secureConnect', () => {
        timings.tlsMs = performance.now() - t0 - (timings.connectMs ?? 0);
        tlsInfo = tlsInfoOf(sock as tls.TLSSocket, servername);
        if (!tlsInfo.authorized && opts.tls?.rejectUnauthorized !== false) {
          finishConnect(
            new TurnError('tls', `certificate not accepted: ${tlsInfo.authorizationError}`, {
              tlsCode: tlsInfo.authorizationError ?? 'UNAUTHORIZED',
              phase: 'tls',
              tls: tlsInfo,
            }),
          );
        } else finishConnect();
      });
    }
    sock.on('data', (chunk: Buffer) => framer.push(chunk));
    sock.on('error', (err) => {
      const phase = !ready ? (timings.connectMs === null ? 'connect' : 'tls') : 'request';
      const te = fromSocketError(err, phase, tlsInfo ?? undefined);
      if (!ready) finishConnect(te);
      else fail(te);
    });
    sock.on('close', () => {
      if (!ready) {
        const phase = timings.connectMs === null ? 'connect' : 'tls';
        finishConnect(new TurnError(phase === 'tls' ? 'tls' : 'closed', `connection closed during ${phase}`, { phase, tlsCode: phase === 'tls' ? 'ECONNRESET' : undefined }));
        return;
      }
      fail(new TurnError('closed', 'the server closed the connection', { phase: 'request' }));
      closed = true;
    });
  });
}
