// DNS-1: resolve A and AAAA for a URI's host (every address found becomes a
// target in its family: the plan needs this before anything else), then judge
// it per URI once NET-1 has run on every address: no address at all, or an A /
// AAAA published but silent while the other family answers.
import { promises as dnsp } from 'node:dns';
import { isIP } from 'node:net';
import type { Family, Finding, IceUri } from '../types';
import { defineCheck } from './check';
import type { UriUnit } from './context';
import { finding } from './finding';

export interface Resolved {
  uri: IceUri;
  addresses: { family: Family; address: string }[];
  dnsMs: number;
  finding: Finding | null;
}

const DNS_TIMEOUT_MS = 3000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(Object.assign(new Error('DNS timeout'), { code: 'ETIMEOUT' })), ms);
    }),
  ]);
}

export type Lookup = (host: string, rr: 'A' | 'AAAA') => Promise<{ addrs: string[]; code?: string }>;

/** localhost names never leave the machine: answer them from the system resolver only. */
async function systemLookup(host: string, rr: 'A' | 'AAAA'): Promise<{ addrs: string[]; code?: string }> {
  try {
    const all = await withTimeout(dnsp.lookup(host, { all: true, family: rr === 'A' ? 4 : 6 }), DNS_TIMEOUT_MS);
    return { addrs: all.map((a) => a.address) };
  } catch (e) {
    return { addrs: [], code: (e as { code?: string }).code ?? 'EUNKNOWN' };
  }
}

export const dnsLookup: Lookup = async (host, rr) => {
  if (host === 'localhost' || host.endsWith('.localhost')) return systemLookup(host, rr);
  const resolver = new dnsp.Resolver({ timeout: 1500, tries: 2 });
  try {
    const addrs = await withTimeout(rr === 'A' ? resolver.resolve4(host) : resolver.resolve6(host), DNS_TIMEOUT_MS);
    return { addrs };
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'EUNKNOWN';
    // "localhost" and /etc/hosts names are not in DNS: fall back to the system resolver.
    if (code !== 'ENOTFOUND') {
      const sys = await systemLookup(host, rr);
      if (sys.addrs.length > 0) return sys;
    }
    return { addrs: [], code };
  } finally {
    resolver.cancel();
  }
};

export async function resolveUri(uri: IceUri, families: Family[], lookup: Lookup = dnsLookup): Promise<Resolved> {
  const t0 = performance.now();
  if (uri.ipLiteral !== 0) {
    const family: Family = uri.ipLiteral === 4 ? 'ipv4' : 'ipv6';
    return {
      uri,
      addresses: families.includes(family) ? [{ family, address: uri.host }] : [],
      dnsMs: 0,
      finding: null,
    };
  }
  const [a, aaaa] = await Promise.all([
    families.includes('ipv4') ? lookup(uri.host, 'A') : Promise.resolve({ addrs: [] as string[] }),
    families.includes('ipv6') ? lookup(uri.host, 'AAAA') : Promise.resolve({ addrs: [] as string[] }),
  ]);
  const dnsMs = Math.round(performance.now() - t0);
  const addresses = [
    ...[...new Set(a.addrs)].filter((x) => isIP(x) === 4).map((address) => ({ family: 'ipv4' as const, address })),
    ...[...new Set(aaaa.addrs)].filter((x) => isIP(x) === 6).map((address) => ({ family: 'ipv6' as const, address })),
  ].slice(0, 8);
  const evidence = { host: uri.host, a: a.addrs.slice(0, 8), aaaa: aaaa.addrs.slice(0, 8), dnsMs };
  if (addresses.length === 0) {
    const code = ('code' in a && a.code) || ('code' in aaaa && aaaa.code) || 'ENODATA';
    return {
      uri,
      addresses,
      dnsMs,
      finding: finding('DNS-1', {
        status: 'fail',
        severity: 'high',
        cause: code === 'ENOTFOUND' ? 'nxdomain' : 'no-address',
        uri: uri.raw,
        summary: code === 'ENOTFOUND' ? `${uri.host} does not exist in DNS.` : `${uri.host} has no ${families.map((f) => (f === 'ipv4' ? 'A' : 'AAAA')).join('/')} record.`,
        evidence: { ...evidence, code },
      }),
    };
  }
  return {
    uri,
    addresses,
    dnsMs,
    finding: finding('DNS-1', { status: 'pass', uri: uri.raw, summary: `${uri.host} resolves to ${addresses.map((x) => x.address).join(', ')}.`, evidence }),
  };
}

const answered = (s: UriUnit['states'][number]) => s.has('NET-1', 'pass');

/** A family whose published addresses never answer while the other family's do. */
function silentFamilies(u: UriUnit): Finding[] {
  if (u.uri.ipLiteral !== 0) return [];
  const out: Finding[] = [];
  const by = (fam: Family) => u.states.filter((s) => s.target.family === fam);
  for (const [fam, other, cause, rr] of [
    ['ipv6', 'ipv4', 'aaaa-silent', 'AAAA'],
    ['ipv4', 'ipv6', 'a-silent', 'A'],
  ] as const) {
    const silent = by(fam);
    if (silent.length > 0 && !silent.some(answered) && by(other).some(answered)) {
      out.push(
        finding('DNS-1', {
          status: 'warn',
          severity: fam === 'ipv6' ? 'medium' : 'high',
          cause,
          uri: u.uri.raw,
          family: fam,
          summary: `${u.uri.host} publishes ${rr} ${silent.map((s) => s.target.address).join(', ')} but nothing answers there, while ${other === 'ipv4' ? 'IPv4' : 'IPv6'} works (clients may try the silent address first and stall).`,
          evidence: { host: u.uri.host, silent: silent.map((s) => s.target.address) },
        }),
      );
    }
  }
  return out;
}

export const DNS_1 = defineCheck({
  id: 'DNS-1',
  scope: 'uri',
  needs: ['NET-1'],
  run: async (u) => [...(u.resolved.finding ? [u.resolved.finding] : []), ...silentFamilies(u)],
});
