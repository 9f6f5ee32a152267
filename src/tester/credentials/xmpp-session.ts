// An XMPP client login, as Conversations or Dino would do it: endpoints from
// SRV (or an override), every address through the target guard, TLS always
// (STARTTLS or direct TLS, verified against the domain), SASL (SCRAM-SHA-1,
// else PLAIN, only ever inside TLS), resource binding. Then IQs to the server.
// Built from xmpp.js packages: client-core plus the plugins composed here, so
// the TLS trust (extra CA) and the guarded address stay ours.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Client } from '@xmpp/client-core';
import iqCallerPlugin, { type IqCaller } from '@xmpp/iq/caller.js';
import middlewarePlugin from '@xmpp/middleware';
import resourceBinding from '@xmpp/resource-binding';
import sasl from '@xmpp/sasl';
import plain from '@xmpp/sasl-plain';
import scramSha1 from '@xmpp/sasl-scram-sha-1';
import { canUpgrade, upgrade } from '@xmpp/starttls/starttls.js';
import streamFeaturesPlugin from '@xmpp/stream-features';
import tcp from '@xmpp/tcp';
import tls from '@xmpp/tls';
import xml, { type Element } from '@xmpp/xml';
import SASLFactory from 'saslmechanisms';
import { checkTarget, type GuardOptions } from '../guard';
import type { Secret } from '../secret';
import { parseJid, xmppEndpoints, type SrvLookup, type XmppEndpoint } from './xmpp-endpoints';

const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** What one session may receive in all: a login and a discovery answer are a few KiB. */
const MAX_INPUT_BYTES = 1 << 20;

export type XmppLoginFailure = 'refused' | 'unreachable' | 'tls' | 'no-tls' | 'auth' | 'timeout' | 'protocol';

export class XmppLoginError extends Error {
  override name = 'XmppLoginError';
  constructor(
    readonly kind: XmppLoginFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface XmppLoginSpec {
  jid: string;
  password: Secret;
  /** Explicit endpoint instead of SRV (operator's override, lab use). */
  server?: XmppEndpoint;
  /** Extra trusted CAs (PEM), added to the system roots. */
  ca?: string[];
  srvLookup?: SrvLookup;
  /** Address lookup (tests and the guard see the same answers as the connection). */
  addressLookup?: (host: string) => Promise<string[]>;
}

export interface XmppSession {
  domain: string;
  bareJid: string;
  endpoint: XmppEndpoint & { address: string };
  /** Send an IQ to the server; resolves with the result stanza, rejects with the error condition. */
  iq(type: 'get' | 'set', child: Element, timeoutMs: number): Promise<Element>;
  close(): Promise<void>;
}

async function addressesOf(host: string, lookup?: (h: string) => Promise<string[]>): Promise<string[]> {
  if (isIP(host)) return [host];
  if (lookup) return lookup(host);
  const all = await dnsLookup(host, { all: true, verbatim: true });
  return all.map((a) => a.address);
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new XmppLoginError('timeout', `${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function classify(e: unknown): XmppLoginError {
  if (e instanceof XmppLoginError) return e;
  const err = e as Error & { code?: string; condition?: string; name?: string };
  if (err.name === 'SASLError') return new XmppLoginError('auth', `SASL authentication failed (${err.condition ?? 'failure'})`);
  const code = err.code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME|altnames/i.test(`${code} ${err.message}`)) return new XmppLoginError('tls', `TLS failed: ${code || err.message}`);
  if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE/.test(code)) return new XmppLoginError('unreachable', `connection failed: ${code}`);
  return new XmppLoginError('protocol', `XMPP error: ${String(err.message ?? e).slice(0, 200)}`);
}

/** One login attempt on one endpoint address. */
async function loginAt(ep: XmppEndpoint, address: string, jid: { local: string; domain: string; bare: string }, spec: XmppLoginSpec, timeoutMs: number): Promise<XmppSession> {
  const hostInUri = isIP(address) === 6 ? `[${address}]` : address;
  const service = `${ep.tls === 'direct' ? 'xmpps' : 'xmpp'}://${hostInUri}:${ep.port}`;
  const ca = spec.ca && spec.ca.length > 0 ? [...rootCertificates, ...spec.ca] : undefined;
  const tlsOptions = { servername: jid.domain, ...(ca ? { ca } : {}) };
  const entity = new Client({ service, domain: jid.domain, timeout: Math.min(timeoutMs, 10_000) });
  entity.on('error', () => undefined); // failures reach us through start(); an unheard 'error' event would crash the process
  // A server's see-other-host would make the library connect elsewhere, past the guard: a failure instead.
  entity._onSeeOtherHost = async () => {
    entity.emit('error', new XmppLoginError('protocol', 'the server redirected the client elsewhere (see-other-host), which the tester does not follow'));
  };
  // Bounded input: a server streaming without end is cut off, not buffered.
  let received = 0;
  const onData = entity._onData.bind(entity);
  entity._onData = (data: Buffer | string) => {
    received += data.length;
    if (received > MAX_INPUT_BYTES) {
      entity.emit('error', new XmppLoginError('protocol', `the server sent more than ${MAX_INPUT_BYTES} bytes`));
      destroy();
      return;
    }
    onData(data);
  };
  tcp({ entity });
  tls({ entity });
  // Connect to the guarded address, verify the certificate against the domain.
  const socketParameters = entity.socketParameters.bind(entity);
  entity.socketParameters = (s: string) => {
    const p = socketParameters(s);
    return p && { ...p, host: address, ...(ep.tls === 'direct' ? { host: address, ...tlsOptions } : {}) };
  };
  const middleware = middlewarePlugin({ entity });
  const streamFeatures = streamFeaturesPlugin({ middleware });
  const iqCaller = iqCallerPlugin({ middleware, entity }) as IqCaller;
  streamFeatures.use('starttls', NS_TLS, async ({ entity: e }, next) => {
    if (!canUpgrade(e.socket)) return next();
    const answer = await e.sendReceive(xml('starttls', { xmlns: NS_TLS }));
    if (!answer.is('proceed', NS_TLS)) throw new XmppLoginError('tls', 'the server refused STARTTLS');
    const secured = await upgrade(e.socket, { host: jid.domain, ...tlsOptions });
    e._attachSocket(secured);
    await e.restart();
  });
  const factory = new SASLFactory();
  scramSha1(factory);
  plain(factory);
  sasl({ streamFeatures, saslFactory: factory }, async (authenticate, mechanisms, _fast, e) => {
    // Never send the password over a stream without TLS (a server that offers no STARTTLS gets nothing).
    if (!e.isSecure()) throw new XmppLoginError('no-tls', 'the server offered no TLS before authentication');
    const mechanism = mechanisms.includes('SCRAM-SHA-1') ? 'SCRAM-SHA-1' : mechanisms.includes('PLAIN') ? 'PLAIN' : mechanisms[0];
    await authenticate({ username: jid.local, password: spec.password.reveal() }, mechanism);
  });
  resourceBinding({ iqCaller, streamFeatures }, `voiptest-${Math.random().toString(36).slice(2, 8)}`);

  const destroy = () => {
    const s = entity.socket as { destroy?: () => void; socket?: { destroy?: () => void } } | null;
    s?.socket?.destroy?.();
    s?.destroy?.();
  };
  const close = async () => {
    try {
      await withDeadline(entity.stop(), 3000, 'closing the XMPP stream');
    } catch {
      destroy();
    }
  };
  try {
    await withDeadline(entity.start(), timeoutMs, `XMPP login at ${ep.host}:${ep.port}`);
  } catch (e) {
    destroy(); // a failed login owes the server no orderly close
    throw classify(e);
  }
  return {
    domain: jid.domain,
    bareJid: jid.bare,
    endpoint: { ...ep, address },
    async iq(type, child, ms) {
      const stanza = xml('iq', { type, to: jid.domain }, child);
      return iqCaller.request(stanza, ms);
    },
    close,
  };
}

/**
 * Log in; tries the endpoints in order and returns the first session. Throws
 * XmppLoginError: 'refused' when the guard refuses every address (the run
 * cannot start), otherwise the last attempt's failure.
 */
export async function xmppLogin(spec: XmppLoginSpec, guard: GuardOptions, timeoutMs: number): Promise<XmppSession> {
  const jid = parseJid(spec.jid);
  const endpoints = spec.server ? [spec.server] : await xmppEndpoints(jid.domain, spec.srvLookup);
  const deadline = Date.now() + timeoutMs;
  let last: XmppLoginError | null = null;
  const refused: string[] = [];
  for (const ep of endpoints) {
    let addresses: string[];
    try {
      addresses = await addressesOf(ep.host, spec.addressLookup);
    } catch (e) {
      last = new XmppLoginError('unreachable', `${ep.host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    for (const address of addresses.slice(0, 4)) {
      const v = checkTarget(address, guard);
      if (!v.allowed) {
        refused.push(`${ep.host} (${address}): ${v.reason}`);
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw last ?? new XmppLoginError('timeout', 'no time left to log in');
      try {
        return await loginAt(ep, address, jid, spec, left);
      } catch (e) {
        last = e as XmppLoginError;
        // A wrong password or a refused STARTTLS is the same on every address: stop here.
        if (last.kind === 'auth' || last.kind === 'no-tls') throw last;
      }
    }
  }
  if (!last && refused.length > 0) throw new XmppLoginError('refused', `XMPP server ${refused.slice(0, 3).join('; ')}`);
  throw last ?? new XmppLoginError('unreachable', `no XMPP endpoint for ${jid.domain}`);
}
