// Where an XMPP client connects for a domain: the SRV records of the client
// service (RFC 6120 3.2, _xmpp-client._tcp for STARTTLS, XEP-0368
// _xmpps-client._tcp for direct TLS), ordered by priority and weight, with the
// domain on 5222 as the fallback; or an operator's explicit server override.
import { promises as dns } from 'node:dns';

export type XmppTlsMode = 'starttls' | 'direct';

export interface XmppEndpoint {
  host: string;
  port: number;
  tls: XmppTlsMode;
  /** Where this endpoint came from (shown in evidence). */
  via: 'srv' | 'fallback' | 'override';
}

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export type SrvLookup = (name: string) => Promise<SrvRecord[]>;

export class XmppInputError extends Error {
  override name = 'XmppInputError';
}

const MAX_ENDPOINTS = 6;

/** A bare JID's parts; throws XmppInputError naming the bad input. */
export function parseJid(input: string): { local: string; domain: string; bare: string } {
  const s = input.trim();
  if (s.length === 0 || s.length > 3071) throw new XmppInputError('--xmpp needs a JID like user@example.org');
  const at = s.indexOf('@');
  const slash = s.indexOf('/');
  const bareEnd = slash < 0 ? s.length : slash;
  if (at <= 0 || at > bareEnd) throw new XmppInputError(`"${s.slice(0, 60)}" is not a JID with a user part (user@example.org)`);
  const local = s.slice(0, at);
  const domain = s.slice(at + 1, bareEnd).toLowerCase().replace(/\.$/, '');
  if (!/^[^\s"&'/:<>@]{1,1023}$/.test(local)) throw new XmppInputError(`the user part of "${s.slice(0, 60)}" has characters a JID cannot have`);
  if (!/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$/.test(domain) && !/^\[[0-9a-f:.]+\]$/.test(domain)) {
    throw new XmppInputError(`the domain of "${s.slice(0, 60)}" is not a host name`);
  }
  return { local, domain, bare: `${local}@${domain}` };
}

/** An explicit server: "host[:port]" (STARTTLS, default 5222) or "xmpps://host[:port]" (direct TLS, default 5223). */
export function parseServerOverride(input: string): XmppEndpoint {
  const m = /^(?:(xmpps?):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?\/?$/.exec(input.trim());
  if (!m) throw new XmppInputError(`--xmpp-server "${input.slice(0, 60)}" is not host[:port] or xmpps://host[:port]`);
  const tls: XmppTlsMode = m[1] === 'xmpps' ? 'direct' : 'starttls';
  const port = m[3] ? Number(m[3]) : tls === 'direct' ? 5223 : 5222;
  if (port < 1 || port > 65535) throw new XmppInputError(`--xmpp-server port ${port} is out of range`);
  return { host: m[2].replace(/^\[|\]$/g, ''), port, tls, via: 'override' };
}

/**
 * RFC 2782 order: ascending priority; within one priority, higher weight
 * first (deterministic: the tester should connect where most clients do),
 * direct TLS before STARTTLS on a tie (XEP-0368 section 3).
 */
export function orderSrv(records: { rec: SrvRecord; tls: XmppTlsMode }[]): XmppEndpoint[] {
  return records
    .filter((r) => r.rec.name !== '.' && r.rec.name !== '' && r.rec.port > 0)
    .sort((a, b) => a.rec.priority - b.rec.priority || b.rec.weight - a.rec.weight || (a.tls === b.tls ? 0 : a.tls === 'direct' ? -1 : 1))
    .slice(0, MAX_ENDPOINTS)
    .map((r) => ({ host: r.rec.name.replace(/\.$/, ''), port: r.rec.port, tls: r.tls, via: 'srv' as const }));
}

async function srvOrEmpty(lookup: SrvLookup, name: string): Promise<SrvRecord[]> {
  try {
    return await lookup(name);
  } catch {
    return []; // NXDOMAIN / NODATA: the service simply has no records
  }
}

/** The endpoints to try for `domain`, best first. */
export async function xmppEndpoints(domain: string, lookup: SrvLookup = (n) => dns.resolveSrv(n)): Promise<XmppEndpoint[]> {
  const [direct, starttls] = await Promise.all([srvOrEmpty(lookup, `_xmpps-client._tcp.${domain}`), srvOrEmpty(lookup, `_xmpp-client._tcp.${domain}`)]);
  const ordered = orderSrv([...direct.map((rec) => ({ rec, tls: 'direct' as const })), ...starttls.map((rec) => ({ rec, tls: 'starttls' as const }))]);
  return ordered.length > 0 ? ordered : [{ host: domain, port: 5222, tls: 'starttls', via: 'fallback' }];
}
