// IP literal <-> bytes, and "ip:port" / "[v6]:port" parsing, without DNS.
import { isIP } from 'node:net';
import type { Family } from '../types';

export interface TransportAddress {
  family: Family;
  /** Canonical text form (RFC 5952 for IPv6). */
  address: string;
  port: number;
}

export function ipToBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map((x) => Number(x)));
  if (v !== 6) throw new TypeError(`not an IP literal: ${JSON.stringify(ip)}`);
  let s = ip;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct); // zone id is not on the wire
  const out = Buffer.alloc(16);
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    // embedded IPv4 in the last 32 bits
    const v4 = ipToBytes(s.slice(lastColon + 1));
    s = s.slice(0, lastColon + 1) + '0:0';
    tail = [...v4];
  }
  const [head, rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length) Buffer.from(tail).copy(out, 12);
  return out;
}

export function bytesToIp(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new TypeError('an IP address is 4 or 16 bytes');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first on ties.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function familyOf(ip: string): Family {
  return isIP(ip) === 6 ? 'ipv6' : 'ipv4';
}

/** Canonical form of an IP literal (e.g. "::0001" -> "::1"). */
export function canonicalIp(ip: string): string {
  return bytesToIp(ipToBytes(ip));
}

/** "1.2.3.4:5", "[::1]:5" -> address; throws TypeError on anything else. */
export function parseHostPort(s: string): TransportAddress {
  let host: string;
  let port: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') throw new TypeError(`bad address: ${JSON.stringify(s)}`);
    host = s.slice(1, close);
    port = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0 || s.indexOf(':') !== colon) throw new TypeError(`bad address: ${JSON.stringify(s)}`);
    host = s.slice(0, colon);
    port = s.slice(colon + 1);
  }
  const p = Number(port);
  if (!isIP(host) || !/^\d{1,5}$/.test(port) || p > 65535) throw new TypeError(`bad address: ${JSON.stringify(s)}`);
  return { family: familyOf(host), address: canonicalIp(host), port: p };
}

export function formatHostPort(a: { address: string; port: number }): string {
  return isIP(a.address) === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
