// The XMPP credential source (XEP-0215): log in as a normal client, discover
// the external services, resolve their hosts, and hand the engine one
// credential set per distinct TURN credential, plus what XMPP-1..6 judge.
import type { GuardOptions } from '../guard';
import type { Lookup } from '../probes/dns';
import { Secret } from '../secret';
import type { TurnCredentials } from './types';
import { parseJid, parseServerOverride, XmppInputError, type SrvLookup } from './xmpp-endpoints';
import { discoverServices } from './xmpp-extdisco';
import type { XmppOutcome } from '../probes/xmpp-discovery';
import { xmppLogin, XmppLoginError } from './xmpp-session';
import { credentialSets, resolveHosts } from './xmpp-services';

export interface XmppSourceSpec {
  kind: 'xmpp';
  jid: string;
  password: Secret;
  /** host[:port] (STARTTLS) or xmpps://host[:port] (direct TLS) instead of SRV. */
  server?: string;
  /** The account comes from the operator's config (bot): no target guard on the XMPP server. */
  trusted?: boolean;
  /** Lab use: SRV answers (default: DNS). */
  srvLookup?: SrvLookup;
}

export interface XmppSourceResult {
  outcome: XmppOutcome;
  /** One per distinct TURN credential (empty when nothing was discovered). */
  credentials: TurnCredentials[];
}

/** Input errors (bad JID, bad --xmpp-server) and guard refusals: the run cannot start. */
export class XmppSourceRefused extends Error {
  override name = 'XmppSourceRefused';
}

export async function resolveXmppSource(spec: XmppSourceSpec, guard: GuardOptions, opts: { timeoutMs: number; ca?: string[]; lookup?: Lookup }): Promise<XmppSourceResult> {
  let domain: string;
  let server;
  try {
    domain = parseJid(spec.jid).domain;
    server = spec.server !== undefined ? parseServerOverride(spec.server) : undefined;
  } catch (e) {
    if (e instanceof XmppInputError) throw new XmppSourceRefused(e.message);
    throw e;
  }
  const loginGuard: GuardOptions = spec.trusted ? { ...guard, allowPrivate: true } : guard;
  let session;
  try {
    session = await xmppLogin({ jid: spec.jid, password: spec.password, server, ca: opts.ca, srvLookup: spec.srvLookup }, loginGuard, opts.timeoutMs);
  } catch (e) {
    if (e instanceof XmppLoginError && e.kind === 'refused') throw new XmppSourceRefused(e.message);
    const err = e instanceof XmppLoginError ? e : new XmppLoginError('protocol', (e as Error).message);
    return { outcome: { domain, login: { ok: false, kind: err.kind, detail: err.message } }, credentials: [] };
  }
  let discovery;
  try {
    discovery = await discoverServices(session, opts.timeoutMs);
  } finally {
    await session.close();
  }
  const services = discovery.answer.kind === 'ok' ? discovery.answer.services : [];
  const hosts = await resolveHosts(services, opts.lookup);
  const source = { kind: 'xmpp' as const, xmpp: domain };
  const credentials: TurnCredentials[] = credentialSets(services).map((set) => ({
    uris: set.uris,
    username: set.username,
    password: set.password ?? new Secret(''),
    ttl: set.expires ? Math.round((set.expires.getTime() - Date.now()) / 1000) : null,
    source,
  }));
  return { outcome: { domain, login: { ok: true }, discovery, hosts }, credentials };
}
