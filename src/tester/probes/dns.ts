// DNS-1 (first half): resolve A and AAAA for a URI's host. Every address found
// becomes a target in its family; "AAAA published but silent" is judged later,
// once NET-1 has run on every address (see judgeSilentFamilies).
import { promises as dnsp } from 'node:dns';
import { isIP } from 'node:net';
import type { Family, Finding, IceUri } from '../types';
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
