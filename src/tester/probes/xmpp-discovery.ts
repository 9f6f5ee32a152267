// XMPP-1..6: the XMPP discovery findings, judged from what the XMPP source
// (credentials/xmpp.ts) saw: the login, the XEP-0215 answer, the credential
// requests and the DNS answers of the advertised hosts. No network here.
import { isIP } from 'node:net';
import type { XmppDiscovery, XmppService } from '../credentials/xmpp-extdisco';
import type { XmppLoginFailure } from '../credentials/xmpp-session';
import type { HostAddresses } from '../credentials/xmpp-services';
import type { Finding } from '../types';
import { withImplementationHints, xmppImplementation } from '../hints';
import { defineCheck } from './check';
import type { RunUnit } from './context';
import { finding, skipped } from './finding';

export interface XmppOutcome {
  domain: string;
  login: { ok: true } | { ok: false; kind: XmppLoginFailure; detail: string };
  discovery?: XmppDiscovery;
  hosts?: Map<string, HostAddresses>;
}

const EXPIRY_MARGIN_MS = 60_000;
const NOT_SUPPORTED = new Set(['feature-not-implemented', 'service-unavailable', 'item-not-found', 'bad-request']);

const isTurn = (s: XmppService) => s.type === 'turn' || s.type === 'turns';
const label = (s: XmppService) => `${s.type}:${s.host}${s.port !== null ? `:${s.port}` : ''}${s.transport ? `/${s.transport}` : ''}`;

export function judgeLogin(o: XmppOutcome): Finding {
  if (o.login.ok) {
    const ep = o.discovery?.endpoint;
    return finding('XMPP-1', {
      status: 'pass',
      summary: `Logged in to ${o.domain}${ep ? ` at ${ep.host}:${ep.port} (${ep.tls === 'direct' ? 'direct TLS' : 'STARTTLS'}, ${ep.via})` : ''}.`,
      evidence: { domain: o.domain, ...(ep ? { host: ep.host, port: ep.port, tls: ep.tls, via: ep.via } : {}) },
    });
  }
  return finding('XMPP-1', {
    status: 'fail',
    severity: 'high',
    cause: o.login.kind,
    summary: `Could not log in to ${o.domain} as an XMPP client: ${o.login.detail}.`,
    evidence: { domain: o.domain, failure: o.login.kind },
  });
}

export function judgeAdvertised(d: XmppDiscovery): Finding {
  const ev = { domain: d.domain };
  const a = d.answer;
  if (a.kind === 'timeout') return finding('XMPP-2', { status: 'fail', severity: 'high', cause: 'timeout', summary: 'The server did not answer the external service discovery request.', evidence: ev });
  if (a.kind === 'error') {
    const cause = NOT_SUPPORTED.has(a.condition) ? 'not-supported' : a.condition === 'forbidden' ? 'forbidden' : 'error';
    return finding('XMPP-2', {
      status: 'fail',
      severity: 'high',
      cause,
      summary: `The server answers external service discovery (XEP-0215) with ${a.condition}${a.v1Condition ? ` (and ${a.v1Condition} on urn:xmpp:extdisco:1)` : ''}: clients find no STUN/TURN.`,
      evidence: { ...ev, condition: a.condition, v1Condition: a.v1Condition },
    });
  }
  const stun = a.services.filter((s) => s.type === 'stun').length;
  const turn = a.services.filter(isTurn).length;
  const evidence = { ...ev, namespace: a.namespace, services: a.services.map(label), stun, turn, dropped: a.dropped };
  if (stun + turn === 0) {
    return finding('XMPP-2', { status: 'fail', severity: 'high', cause: 'empty', summary: 'The server advertises no STUN or TURN service.', evidence });
  }
  if (turn === 0) {
    return finding('XMPP-2', { status: 'fail', severity: 'high', cause: 'stun-only', summary: `The server advertises only STUN (${stun} service(s)): calls between users behind symmetric NAT cannot connect.`, evidence });
  }
  if (a.namespace !== 'urn:xmpp:extdisco:2') {
    return finding('XMPP-2', { status: 'warn', severity: 'low', cause: 'v1-only', summary: `The server answers only the old namespace ${a.namespace}; current clients ask urn:xmpp:extdisco:2.`, evidence });
  }
  return finding('XMPP-2', { status: 'pass', summary: `The server advertises ${stun} STUN and ${turn} TURN service(s).`, evidence });
}

export function judgeCredentials(d: XmppDiscovery, now: number): Finding {
  const a = d.answer;
  const turn = a.kind === 'ok' ? a.services.filter(isTurn) : [];
  if (turn.length === 0) return skipped('XMPP-3', 'no TURN service advertised');
  // Restricted services whose request failed are XMPP-4's; judge the rest.
  const judged = turn.filter((s) => !(s.credentialRequest && !s.credentialRequest.ok));
  if (judged.length === 0) return skipped('XMPP-3', 'no TURN service got credentials (see XMPP-4)');
  const none = judged.filter((s) => s.username === null || s.password === null);
  const expired = judged.filter((s) => s.expires instanceof Date && s.expires.getTime() <= now);
  const soon = judged.filter((s) => s.expires instanceof Date && s.expires.getTime() > now && s.expires.getTime() - now < EXPIRY_MARGIN_MS);
  const invalid = judged.filter((s) => s.expires === 'invalid');
  if (none.length > 0) {
    return finding('XMPP-3', {
      status: 'fail',
      severity: 'high',
      cause: 'no-credentials',
      summary: `${none.length} TURN service(s) are advertised without credentials and not marked restricted: clients cannot authenticate (${none.map(label).slice(0, 3).join(', ')}).`,
      evidence: { services: none.map(label) },
    });
  }
  if (expired.length > 0) {
    const e = expired[0].expires as Date;
    return finding('XMPP-3', {
      status: 'fail',
      severity: 'high',
      cause: 'expired',
      summary: `The TURN credentials were already expired when handed out (expires ${e.toISOString()}, ${Math.round((now - e.getTime()) / 1000)} s ago).`,
      evidence: { services: expired.map(label), expires: e.toISOString(), agoS: Math.round((now - e.getTime()) / 1000) },
    });
  }
  if (soon.length > 0) {
    const e = soon[0].expires as Date;
    return finding('XMPP-3', {
      status: 'warn',
      severity: 'medium',
      cause: 'expiring',
      summary: `The TURN credentials expire ${Math.round((e.getTime() - now) / 1000)} s after they were handed out: longer calls lose their relay.`,
      evidence: { services: soon.map(label), expires: e.toISOString() },
    });
  }
  if (invalid.length > 0) {
    return finding('XMPP-3', { status: 'warn', severity: 'low', cause: 'bad-expires', summary: 'The `expires` attribute of a TURN service is not an XML date-time; clients may treat the credentials as expired.', evidence: { services: invalid.map(label) } });
  }
  const exp = judged.map((s) => s.expires).filter((x): x is Date => x instanceof Date);
  return finding('XMPP-3', {
    status: 'pass',
    summary: `Every TURN service came with credentials${exp.length > 0 ? `, valid for ${Math.round((Math.min(...exp.map((x) => x.getTime())) - now) / 1000)} s` : ''}.`,
    evidence: { services: judged.map(label), ...(exp.length > 0 ? { ttl: Math.round((Math.min(...exp.map((x) => x.getTime())) - now) / 1000) } : {}) },
  });
}

export function judgeCredentialRequests(d: XmppDiscovery): Finding {
  const a = d.answer;
  const asked = a.kind === 'ok' ? a.services.filter((s) => s.credentialRequest) : [];
  if (asked.length === 0) return finding('XMPP-4', { status: 'info', summary: 'No credential request was needed: restricted services came with their credentials.', evidence: {} });
  const failed = asked.filter((s) => s.credentialRequest && !s.credentialRequest.ok);
  if (failed.length === 0) return finding('XMPP-4', { status: 'pass', summary: `Credentials were handed out on request for ${asked.length} restricted service(s).`, evidence: { services: asked.map(label) } });
  const conditions = [...new Set(failed.map((s) => (s.credentialRequest as { condition: string }).condition))];
  return finding('XMPP-4', {
    status: 'fail',
    severity: 'high',
    cause: 'request-failed',
    summary: `The credential request for ${failed.length} restricted service(s) failed (${conditions.join(', ')}): clients cannot use them.`,
    evidence: { services: failed.map(label), conditions },
  });
}

type Variant = 'stun/udp' | 'turn/udp' | 'turns/tcp';

function familiesOf(host: string, hosts: Map<string, HostAddresses>): ('ipv4' | 'ipv6')[] {
  const h = hosts.get(host);
  if (!h) return [];
  return [...(h.v4.length > 0 ? (['ipv4'] as const) : []), ...(h.v6.length > 0 ? (['ipv6'] as const) : [])];
}

function variantOf(s: XmppService): Variant | null {
  if (s.type === 'stun' && s.transport !== 'tcp') return 'stun/udp';
  if (s.type === 'turn' && (s.transport ?? 'udp') === 'udp') return 'turn/udp';
  if (s.type === 'turns') return 'turns/tcp';
  return null;
}

export function judgeVariants(d: XmppDiscovery, hosts: Map<string, HostAddresses>): Finding {
  const a = d.answer;
  const services = a.kind === 'ok' ? a.services : [];
  const have = new Set<string>();
  for (const s of services) {
    const v = variantOf(s);
    if (v) for (const f of familiesOf(s.host, hosts)) have.add(`${v} ${f}`);
  }
  const all = (['stun/udp', 'turn/udp', 'turns/tcp'] as const).flatMap((v) => (['ipv4', 'ipv6'] as const).map((f) => `${v} ${f}`));
  const missing = all.filter((x) => !have.has(x));
  const turns443 = services.some((s) => s.type === 'turns' && s.port === 443);
  const evidence = { found: all.filter((x) => have.has(x)), missing, turns443 };
  const note443 = turns443 ? '' : ' No TURNS service is on port 443, the one port most firewalls let through.';
  if (missing.length === 0) return finding('XMPP-5', { status: 'pass', summary: `All six variants are advertised (STUN/UDP, TURN/UDP, TURNS on IPv4 and IPv6).${note443}`, evidence });
  const noV6 = missing.filter((m) => m.endsWith('ipv6')).length === 3;
  const onlyV6Missing = noV6 && missing.length === 3;
  return finding('XMPP-5', {
    status: 'warn',
    severity: onlyV6Missing ? 'low' : 'medium',
    cause: onlyV6Missing ? 'no-ipv6' : 'missing',
    summary: onlyV6Missing
      ? `No IPv6 service is advertised: IPv6-only clients (mobile networks) get no STUN/TURN.${note443}`
      : `${6 - missing.length} of the six variants clients look for are advertised; missing: ${missing.join(', ')}.${note443}`,
    evidence,
  });
}

export function judgeHosts(d: XmppDiscovery, hosts: Map<string, HostAddresses>): Finding {
  const a = d.answer;
  const services = a.kind === 'ok' ? a.services.filter((s) => s.type === 'stun' || isTurn(s)) : [];
  if (services.length === 0) return skipped('XMPP-6', 'no STUN/TURN service advertised');
  const dead = [...new Set(services.map((s) => s.host))].filter((h) => !isIP(h) && hosts.get(h)?.code);
  if (dead.length > 0) {
    const h = dead[0];
    return finding('XMPP-6', {
      status: 'fail',
      severity: 'high',
      cause: 'no-address',
      summary: `The advertised host ${dead.join(', ')} does not resolve (${hosts.get(h)?.code}): clients cannot reach those services.`,
      evidence: { host: h, hosts: dead, code: hosts.get(h)?.code ?? null },
    });
  }
  // A name and an IP literal advertised for the same service should be one server.
  const mismatches: string[] = [];
  for (const named of services.filter((s) => !isIP(s.host))) {
    const addrs = hosts.get(named.host);
    if (!addrs) continue;
    for (const lit of services.filter((s) => isIP(s.host) && s.type === named.type && s.port === named.port)) {
      const fam = isIP(lit.host) === 4 ? addrs.v4 : addrs.v6;
      if (fam.length > 0 && !fam.includes(lit.host)) mismatches.push(`${named.host} resolves to ${fam.slice(0, 2).join(', ')}, not ${lit.host}`);
    }
  }
  if (mismatches.length > 0) {
    return finding('XMPP-6', {
      status: 'warn',
      severity: 'medium',
      cause: 'mismatch',
      summary: `Advertised names and addresses disagree: ${[...new Set(mismatches)].slice(0, 3).join('; ')}.`,
      evidence: { mismatches: [...new Set(mismatches)].slice(0, 5) },
    });
  }
  return finding('XMPP-6', { status: 'pass', summary: 'Every advertised host resolves, consistently with the addresses advertised beside it.', evidence: { hosts: [...hosts.keys()] } });
}

const LOGIN_FAILURES: readonly XmppLoginFailure[] = ['refused', 'unreachable', 'tls', 'no-tls', 'auth', 'timeout', 'protocol'];

/** The discovery, when the login worked (the checks after XMPP-1 need it). */
function discovery(run: RunUnit): XmppDiscovery {
  const d = run.source.xmpp?.discovery;
  if (!d) throw new Error('no XMPP discovery'); // unreachable: XMPP-2 needs XMPP-1
  return d;
}
const hostsOf = (run: RunUnit) => run.source.xmpp?.hosts ?? new Map<string, HostAddresses>();
const isXmpp = (run: RunUnit) => !!run.source.xmpp;
// A STUN-only answer still has hosts and variants worth judging.
const servicesFound = (f: Finding) => f.cause !== 'stun-only';

/** Hints for the XMPP server that answered (its XEP-0092 name), when it told. */
const forServer = (run: RunUnit, f: Finding): Finding[] => withImplementationHints([f], xmppImplementation(run.source.xmpp?.discovery?.software?.name));

export const XMPP_1 = defineCheck({ id: 'XMPP-1', scope: 'run', applies: isXmpp, causes: LOGIN_FAILURES, run: async (run) => judgeLogin(run.source.xmpp!) });
export const XMPP_2 = defineCheck({ id: 'XMPP-2', scope: 'run', applies: isXmpp, needs: ['XMPP-1'], blocks: servicesFound, run: async (run) => forServer(run, judgeAdvertised(discovery(run))) });
export const XMPP_3 = defineCheck({ id: 'XMPP-3', scope: 'run', applies: isXmpp, needs: ['XMPP-2'], run: async (run) => forServer(run, judgeCredentials(discovery(run), Date.now())) });
export const XMPP_4 = defineCheck({ id: 'XMPP-4', scope: 'run', applies: isXmpp, needs: ['XMPP-2'], run: async (run) => forServer(run, judgeCredentialRequests(discovery(run))) });
export const XMPP_5 = defineCheck({ id: 'XMPP-5', scope: 'run', applies: isXmpp, needs: ['XMPP-2'], run: async (run) => forServer(run, judgeVariants(discovery(run), hostsOf(run))) });
export const XMPP_6 = defineCheck({ id: 'XMPP-6', scope: 'run', applies: isXmpp, needs: ['XMPP-2'], run: async (run) => forServer(run, judgeHosts(discovery(run), hostsOf(run))) });
