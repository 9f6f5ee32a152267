// XEP-0215 services as the engine's inputs: each STUN/TURN service as an ICE
// URI, services grouped into credential sets (one TURN run per distinct
// username/password), and the A/AAAA answers of every advertised host.
import { isIP } from 'node:net';
import { dnsLookup, type Lookup } from '../probes/dns';
import type { Secret } from '../secret';
import type { XmppService } from './xmpp-extdisco';

/** The ICE URI clients build from a service; null for non-STUN/TURN types. */
export function serviceUri(s: XmppService): string | null {
  const host = isIP(s.host) === 6 ? `[${s.host}]` : s.host;
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) return null;
  switch (s.type) {
    case 'stun':
      // STUN counts only on UDP (a stun: URI means UDP to the engine).
      return s.transport === 'tcp' ? null : `stun:${host}:${s.port ?? 3478}`;
    case 'turn':
      return `turn:${host}:${s.port ?? 3478}?transport=${s.transport ?? 'udp'}`;
    case 'turns':
      return `turns:${host}:${s.port ?? 5349}?transport=tcp`;
    default:
      return null;
  }
}

export interface CredentialSet {
  uris: string[];
  username: string;
  password: Secret | null;
  /** Earliest `expires` of its services, when given. */
  expires: Date | null;
}

/**
 * One set per distinct (username, password): TURN services that share
 * credentials are tested together. STUN services join the first set (they
 * need none); a list of only STUN services yields one set without password.
 */
export function credentialSets(services: XmppService[]): CredentialSet[] {
  const sets: CredentialSet[] = [];
  const stun: string[] = [];
  for (const s of services) {
    const uri = serviceUri(s);
    if (uri === null) continue;
    if (s.type === 'stun') {
      if (!stun.includes(uri)) stun.push(uri);
      continue;
    }
    const username = s.username ?? '';
    const pw = s.password;
    let set = sets.find((x) => x.username === username && (x.password?.reveal() ?? null) === (pw?.reveal() ?? null));
    if (!set) {
      set = { uris: [], username, password: pw, expires: null };
      sets.push(set);
    }
    if (!set.uris.includes(uri)) set.uris.push(uri);
    if (s.expires instanceof Date && (set.expires === null || s.expires < set.expires)) set.expires = s.expires;
  }
  if (sets.length === 0) return stun.length > 0 ? [{ uris: stun, username: '', password: null, expires: null }] : [];
  sets[0].uris.unshift(...stun);
  return sets;
}

export interface HostAddresses {
  v4: string[];
  v6: string[];
  /** DNS error code when the name resolved to nothing. */
  code?: string;
}

/** A/AAAA of every advertised host (IP literals answer themselves). */
export async function resolveHosts(services: XmppService[], lookup: Lookup = dnsLookup): Promise<Map<string, HostAddresses>> {
  const hosts = [...new Set(services.map((s) => s.host))].slice(0, 16);
  const out = new Map<string, HostAddresses>();
  await Promise.all(
    hosts.map(async (h) => {
      const fam = isIP(h);
      if (fam === 4) return void out.set(h, { v4: [h], v6: [] });
      if (fam === 6) return void out.set(h, { v4: [], v6: [h] });
      const [a, aaaa] = await Promise.all([lookup(h, 'A'), lookup(h, 'AAAA')]);
      const r: HostAddresses = { v4: a.addrs, v6: aaaa.addrs };
      if (a.addrs.length === 0 && aaaa.addrs.length === 0) r.code = a.code ?? aaaa.code ?? 'NODATA';
      out.set(h, r);
    }),
  );
  return out;
}
