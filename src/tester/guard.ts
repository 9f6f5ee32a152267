// Which addresses are special (loopback, private, reserved ...), as one table.
// Used twice: to refuse probing targets that are not public (unless the run is
// a lab run), and by ALLOC-1 to judge whether a relayed address is reachable
// from the Internet. Matching is longest-prefix over the table, so rows may
// overlap (e.g. ::/3 reserved, ::1/128 loopback) without ordering games.
import { isIP } from 'node:net';

export type RangeName =
  | 'unspecified'
  | 'this-network'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'ula'
  | 'site-local'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'teredo'
  | 'public';

interface RangeRow {
  cidr: string;
  range: RangeName;
  label: string;
  /** The row embeds an IPv4 address; classify that instead (special iff it is). */
  embedsV4?: 'low32' | '6to4';
}

export const SPECIAL_RANGES: readonly RangeRow[] = [
  { cidr: '0.0.0.0/32', range: 'unspecified', label: 'the unspecified address' },
  { cidr: '0.0.0.0/8', range: 'this-network', label: 'a "this network" address' },
  { cidr: '10.0.0.0/8', range: 'private', label: 'a private (RFC 1918) address' },
  { cidr: '100.64.0.0/10', range: 'cgnat', label: 'a carrier-grade NAT (100.64/10) address' },
  { cidr: '127.0.0.0/8', range: 'loopback', label: 'a loopback address' },
  { cidr: '169.254.0.0/16', range: 'link-local', label: 'a link-local address' },
  { cidr: '172.16.0.0/12', range: 'private', label: 'a private (RFC 1918) address' },
  { cidr: '192.0.0.0/24', range: 'reserved', label: 'an IETF protocol assignment address' },
  { cidr: '192.0.2.0/24', range: 'documentation', label: 'a documentation (TEST-NET-1) address' },
  { cidr: '192.88.99.0/24', range: 'reserved', label: 'a deprecated 6to4 relay anycast address' },
  { cidr: '192.168.0.0/16', range: 'private', label: 'a private (RFC 1918) address' },
  { cidr: '198.18.0.0/15', range: 'benchmarking', label: 'a benchmarking address' },
  { cidr: '198.51.100.0/24', range: 'documentation', label: 'a documentation (TEST-NET-2) address' },
  { cidr: '203.0.113.0/24', range: 'documentation', label: 'a documentation (TEST-NET-3) address' },
  { cidr: '224.0.0.0/4', range: 'multicast', label: 'a multicast address' },
  { cidr: '240.0.0.0/4', range: 'reserved', label: 'a reserved (240/4) address' },
  { cidr: '255.255.255.255/32', range: 'broadcast', label: 'the broadcast address' },

  { cidr: '::/128', range: 'unspecified', label: 'the unspecified address' },
  { cidr: '::1/128', range: 'loopback', label: 'a loopback address' },
  { cidr: '::ffff:0:0/96', range: 'public', label: 'an IPv4-mapped address', embedsV4: 'low32' },
  { cidr: '64:ff9b::/96', range: 'public', label: 'a NAT64 (64:ff9b::/96) address', embedsV4: 'low32' },
  { cidr: '64:ff9b:1::/48', range: 'reserved', label: 'a local-use NAT64 address' },
  { cidr: '100::/64', range: 'reserved', label: 'a discard-only address' },
  { cidr: '2001::/32', range: 'teredo', label: 'a Teredo address' },
  { cidr: '2001:2::/48', range: 'benchmarking', label: 'a benchmarking address' },
  { cidr: '2001:10::/28', range: 'reserved', label: 'a deprecated ORCHID address' },
  { cidr: '2001:20::/28', range: 'reserved', label: 'an ORCHIDv2 address' },
  { cidr: '2001:db8::/32', range: 'documentation', label: 'a documentation address' },
  { cidr: '2002::/16', range: 'public', label: 'a 6to4 address', embedsV4: '6to4' },
  { cidr: '3fff::/20', range: 'documentation', label: 'a documentation address' },
  { cidr: 'fc00::/7', range: 'ula', label: 'a unique local (fc00::/7) address' },
  { cidr: 'fe80::/10', range: 'link-local', label: 'a link-local address' },
  { cidr: 'fec0::/10', range: 'site-local', label: 'a deprecated site-local address' },
  { cidr: 'ff00::/8', range: 'multicast', label: 'a multicast address' },
  // Outside 2000::/3 nothing is global unicast; the rows above carve out the known uses.
  { cidr: '::/3', range: 'reserved', label: 'an address outside global unicast space' },
  { cidr: '4000::/2', range: 'reserved', label: 'an address outside global unicast space' },
  { cidr: '8000::/1', range: 'reserved', label: 'an address outside global unicast space' },
];

/** Never a single unicast host: refused even in lab runs. */
const NEVER_PROBE: ReadonlySet<RangeName> = new Set(['unspecified', 'multicast', 'broadcast', 'this-network']);

export class CidrParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CidrParseError';
  }
}

export interface Cidr {
  family: 4 | 6;
  base: bigint;
  prefix: number;
  text: string;
}

interface ParsedIp {
  family: 4 | 6;
  value: bigint;
}

function parseV4(s: string): bigint {
  return s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseV6(s: string): bigint {
  // Embedded dotted IPv4 tail (e.g. ::ffff:127.0.0.1) becomes two hex groups first.
  const text = s.replace(/(\d+\.\d+\.\d+\.\d+)$/, (v4) => {
    const v = parseV4(v4);
    return `${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  });
  const halves = text.split('::');
  const groups = (h: string | undefined): bigint[] => (h ? h.split(':').map((g) => BigInt(parseInt(g, 16))) : []);
  const head = groups(halves[0]);
  const tail = halves.length > 1 ? groups(halves[1]) : [];
  const fill: bigint[] = Array(8 - head.length - tail.length).fill(0n);
  return [...head, ...fill, ...tail].reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Accepts "1.2.3.4", "::1", "[::1]", "fe80::1%eth0"; null when not an IP literal. */
export function parseIp(input: string): ParsedIp | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const v = isIP(s);
  if (v === 4) return { family: 4, value: parseV4(s) };
  if (v === 6) return { family: 6, value: parseV6(s.toLowerCase()) };
  return null;
}

const MAPPED_BASE = 0xffffn << 32n;

/** ::ffff:a.b.c.d compares as a.b.c.d. */
function unmap(ip: ParsedIp): ParsedIp {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return { family: 4, value: ip.value - MAPPED_BASE };
  return ip;
}

export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addr);
  if (!ip) throw new CidrParseError(`"${text.slice(0, 60)}" is not a CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)`);
  const bits = ip.family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > bits) throw new CidrParseError(`"${text.slice(0, 60)}": prefix length must be 0-${bits}`);
    prefix = Number(p);
  }
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { family: ip.family, base: ip.value & mask, prefix, text };
}

function contains(c: Cidr, ip: ParsedIp): boolean {
  if (c.family !== ip.family) return false;
  const bits = c.family === 4 ? 32 : 128;
  const shift = BigInt(bits - c.prefix);
  return ip.value >> shift === c.base >> shift;
}

/** Does the CIDR contain the address? IPv4-mapped IPv6 addresses match IPv4 CIDRs. */
export function cidrContains(cidr: string | Cidr, ip: string): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const p = parseIp(ip);
  if (!p) return false;
  return contains(c, p) || (c.family === 4 && contains(c, unmap(p)));
}

const TABLE: readonly (RangeRow & { parsed: Cidr })[] = SPECIAL_RANGES.map((r) => ({ ...r, parsed: parseCidr(r.cidr) }));

export interface Classification {
  special: boolean;
  range: RangeName;
  /** Human words: "a loopback address", "an IPv4-mapped loopback address". */
  label: string;
  /** The IPv4 address a mapped/NAT64/6to4 address carries, when it does. */
  embedded?: string;
}

function v4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

function lookup(ip: ParsedIp): (RangeRow & { parsed: Cidr }) | null {
  let best: (RangeRow & { parsed: Cidr }) | null = null;
  for (const row of TABLE) {
    if (contains(row.parsed, ip) && (!best || row.parsed.prefix > best.parsed.prefix)) best = row;
  }
  return best;
}

/** Classify an IP literal. Not an IP at all -> special 'reserved' (never treat junk as public). */
export function classifyAddress(input: string): Classification {
  const ip = parseIp(input);
  if (!ip) return { special: true, range: 'reserved', label: 'not an IP address' };
  const row = lookup(ip);
  if (!row) return { special: false, range: 'public', label: 'a public address' };
  if (row.embedsV4) {
    const v4 = row.embedsV4 === 'low32' ? ip.value & 0xffffffffn : (ip.value >> 80n) & 0xffffffffn;
    const inner = classifyAddress(v4Text(v4));
    return {
      special: inner.special,
      range: inner.range,
      label: inner.special ? `${inner.label} inside ${row.label}` : row.label,
      embedded: v4Text(v4),
    };
  }
  return { special: row.range !== 'public', range: row.range, label: row.label };
}

export type TargetVerdict = { allowed: true } | { allowed: false; reason: string };

export interface GuardOptions {
  allowPrivate: boolean;
  /** Lab ranges that count as public (also for targets). */
  assumePublic?: readonly string[];
}

function inAssumed(ip: string, assumePublic: readonly string[] | undefined): boolean {
  return (assumePublic ?? []).some((c) => cidrContains(c, ip));
}

/** May the tester send traffic to this address? Refuses special ranges unless the run is a lab run. */
export function checkTarget(ip: string, opts: GuardOptions): TargetVerdict {
  if (!parseIp(ip)) return { allowed: false, reason: `"${ip.slice(0, 60)}" is not an IP address; refusing to probe it` };
  const c = classifyAddress(ip);
  if (!c.special) return { allowed: true };
  if (NEVER_PROBE.has(c.range)) return { allowed: false, reason: `${ip} is ${c.label}; it is not a single host and is never probed` };
  if (opts.allowPrivate || inAssumed(ip, opts.assumePublic)) return { allowed: true };
  return { allowed: false, reason: `${ip} is ${c.label}; refusing to probe it (use --allow-private in a lab)` };
}

/** Strip a port from "1.2.3.4:5", "[::1]:5" or pass a bare IP through. */
export function hostOf(addressWithPort: string): string {
  const s = addressWithPort.trim();
  if (isIP(s)) return s;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    return close > 0 ? s.slice(1, close) : s;
  }
  const colon = s.lastIndexOf(':');
  if (colon > 0 && s.indexOf(':') === colon) return s.slice(0, colon);
  return s;
}

/** ALLOC-1: is a relayed address reachable from the Internet (or in a range the run treats as public)? */
export function isPublicRelayAddress(address: string, assumePublic: readonly string[] = []): boolean {
  const ip = hostOf(address);
  if (!parseIp(ip)) return false;
  return !classifyAddress(ip).special || inAssumed(ip, assumePublic);
}
