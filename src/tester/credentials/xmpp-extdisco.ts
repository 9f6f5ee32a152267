// XEP-0215 external service discovery over a logged-in session: ask
// urn:xmpp:extdisco:2 for services (falling back to :1), ask for credentials of
// restricted services that came without them, and read the server's software
// (XEP-0092) so hints can name its settings. Parsing is pure (parseServices).
import xml, { type Element } from '@xmpp/xml';
import { Secret } from '../secret';
import type { XmppSession } from './xmpp-session';

export const EXTDISCO_V2 = 'urn:xmpp:extdisco:2';
export const EXTDISCO_V1 = 'urn:xmpp:extdisco:1';
const NS_VERSION = 'jabber:iq:version';

/** Bounds on what a server can make us hold or test. */
export const MAX_SERVICES = 32;
const MAX_HOST = 253;

export interface XmppService {
  type: string;
  transport: 'udp' | 'tcp' | null;
  host: string;
  port: number | null;
  username: string | null;
  password: Secret | null;
  restricted: boolean;
  /** Parsed `expires`; null when absent; 'invalid' when unparsable. */
  expires: Date | null | 'invalid';
  /** What the credential request (XEP-0215 section 3.3) gave, when one was made. */
  credentialRequest?: { ok: true } | { ok: false; condition: string };
}

export type DiscoveryAnswer =
  | { kind: 'ok'; namespace: string; services: XmppService[]; dropped: number }
  /** Both namespaces answered with an error (the module is off, or access is denied). */
  | { kind: 'error'; condition: string; v1Condition: string | null }
  | { kind: 'timeout' };

export interface XmppDiscovery {
  domain: string;
  endpoint: { host: string; port: number; tls: 'starttls' | 'direct'; via: string; address: string };
  answer: DiscoveryAnswer;
  /** XEP-0092 name/version, when the server answers it. */
  software: { name: string; version: string | null } | null;
}

function safeText(s: string | undefined, max: number): string {
  return (s ?? '').slice(0, max);
}

function parsePort(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : null;
}

function parseExpires(s: string | undefined): Date | null | 'invalid' {
  if (s === undefined || s === '') return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t) : 'invalid';
}

function parseService(el: Element): XmppService | null {
  const type = safeText(el.attrs.type, 16).toLowerCase();
  const host = safeText(el.attrs.host, MAX_HOST + 2).trim();
  if (!type || !host || host.length > MAX_HOST + 2) return null;
  const transport = el.attrs.transport === 'udp' || el.attrs.transport === 'tcp' ? el.attrs.transport : null;
  const restricted = el.attrs.restricted === '1' || el.attrs.restricted === 'true';
  return {
    type,
    transport,
    host: host.replace(/^\[|\]$/g, ''),
    port: parsePort(el.attrs.port),
    username: el.attrs.username !== undefined ? safeText(el.attrs.username, 512) : null,
    password: el.attrs.password !== undefined ? new Secret(safeText(el.attrs.password, 512)) : null,
    restricted,
    expires: parseExpires(el.attrs.expires),
  };
}

/** The services of a <services/> (or <credentials/>) element; at most MAX_SERVICES kept. */
export function parseServices(el: Element | undefined, ns: string): { services: XmppService[]; dropped: number } {
  if (!el) return { services: [], dropped: 0 };
  const all = el.getChildren('service', ns).concat(ns === EXTDISCO_V2 ? [] : el.getChildren('service'));
  const unique = [...new Set(all)];
  const parsed = unique.slice(0, MAX_SERVICES).map(parseService);
  const services = parsed.filter((s): s is XmppService => s !== null);
  return { services, dropped: Math.max(0, unique.length - MAX_SERVICES) + (parsed.length - services.length) };
}

function conditionOf(e: unknown): string {
  const c = (e as { condition?: string }).condition;
  if (typeof c === 'string' && /^[a-z-]{1,40}$/.test(c)) return c;
  if (/timeout/i.test((e as Error).message ?? '')) return 'timeout';
  return 'error';
}

async function ask(session: XmppSession, ns: string, timeoutMs: number): Promise<{ ok: true; el: Element } | { ok: false; condition: string }> {
  try {
    const iq = await session.iq('get', xml('services', { xmlns: ns }), timeoutMs);
    return { ok: true, el: iq.getChild('services', ns) ?? iq };
  } catch (e) {
    return { ok: false, condition: conditionOf(e) };
  }
}

/** XEP-0215 section 3.3: credentials for one restricted service that came without them. */
async function requestCredentials(session: XmppSession, ns: string, s: XmppService, timeoutMs: number): Promise<void> {
  const attrs: Record<string, string> = { host: s.host, type: s.type };
  if (s.port !== null) attrs.port = String(s.port);
  try {
    const iq = await session.iq('get', xml('credentials', { xmlns: ns }, xml('service', attrs)), timeoutMs);
    const { services } = parseServices(iq.getChild('credentials', ns), ns);
    const got = services.find((x) => x.host === s.host && x.type === s.type) ?? services[0];
    if (!got || got.username === null || got.password === null) {
      s.credentialRequest = { ok: false, condition: 'no-credentials-in-answer' };
      return;
    }
    s.username = got.username;
    s.password = got.password;
    if (got.expires !== null) s.expires = got.expires;
    s.credentialRequest = { ok: true };
  } catch (e) {
    s.credentialRequest = { ok: false, condition: conditionOf(e) };
  }
}

async function software(session: XmppSession, timeoutMs: number): Promise<XmppDiscovery['software']> {
  try {
    const iq = await session.iq('get', xml('query', { xmlns: NS_VERSION }), timeoutMs);
    const q = iq.getChild('query', NS_VERSION);
    const name = q?.getChildText('name');
    if (!name) return null;
    return { name: name.slice(0, 64), version: q?.getChildText('version')?.slice(0, 64) ?? null };
  } catch {
    return null; // mod_version is optional; hints then stay generic
  }
}

/** The whole discovery over one session. */
export async function discoverServices(session: XmppSession, timeoutMs: number): Promise<XmppDiscovery> {
  const per = Math.max(1000, Math.min(timeoutMs, 8000));
  const [v2, sw] = await Promise.all([ask(session, EXTDISCO_V2, per), software(session, per)]);
  let answer: DiscoveryAnswer;
  let ns = EXTDISCO_V2;
  let got = v2;
  if (!v2.ok) {
    ns = EXTDISCO_V1;
    got = await ask(session, EXTDISCO_V1, per);
  }
  if (got.ok) {
    const { services, dropped } = parseServices(got.el, ns);
    const missing = services.filter((s) => s.restricted && (s.username === null || s.password === null));
    await Promise.all(missing.slice(0, 8).map((s) => requestCredentials(session, ns, s, per)));
    answer = { kind: 'ok', namespace: ns, services, dropped };
  } else if (!v2.ok && v2.condition === 'timeout' && got.condition === 'timeout') {
    answer = { kind: 'timeout' };
  } else {
    answer = { kind: 'error', condition: v2.ok ? 'error' : v2.condition, v1Condition: got.ok ? null : got.condition };
  }
  return { domain: session.domain, endpoint: session.endpoint, answer, software: sw };
}
