// stun:/turn:/turns: URIs (RFC 7064 / RFC 7065), parsed strictly so that a bad
// advertised URI becomes an ADV-1 finding with a clear reason, never a crash.
//
// Decisions (documented here because other modules rely on them):
// - `stuns:` is rejected (code 'unsupported-scheme'): browsers do not implement
//   STUN over TLS and the scoring rules only count STUN on plain UDP.
// - `turns:...?transport=udp` (TURN over DTLS) parses, with transport 'udp' and
//   scheme 'turns'; `isDtls()` says so and ADV-1 flags it. No probe speaks DTLS.
// - `turns:...?transport=tcp` is TLS over TCP: transport 'tls'.
// - User info (`user:pass@host`) is rejected and the error message never repeats
//   the URI, since the part before '@' may hold a password.
// - IPv6 literals must be bracketed; the host is stored without brackets. We
//   never split on ':' (the 2020 tester's bug): the host ends at the bracket.
// - Ports are numbers; host names are lower-cased, a trailing dot dropped.
import { isIP } from 'node:net';
import type { IceUri, Scheme, Transport } from './types';

export type UriErrorCode =
  | 'empty'
  | 'too-long'
  | 'unknown-scheme'
  | 'unsupported-scheme'
  | 'authority'
  | 'userinfo'
  | 'empty-host'
  | 'bad-host'
  | 'bad-ipv6'
  | 'bad-port'
  | 'bad-query'
  | 'bad-transport'
  | 'whitespace';

export class UriParseError extends Error {
  constructor(
    message: string,
    readonly code: UriErrorCode,
  ) {
    super(message);
    this.name = 'UriParseError';
  }
}

const MAX_URI_LENGTH = 1024;

/** Scheme defaults (RFC 7064 section 3.2, RFC 7065 section 3). */
const SCHEMES: Record<Scheme, { port: number; transport: Transport; transports: Record<string, Transport> }> = {
  stun: { port: 3478, transport: 'udp', transports: {} },
  turn: { port: 3478, transport: 'udp', transports: { udp: 'udp', tcp: 'tcp' } },
  // turns: over TCP is TLS; over UDP it would be DTLS (kept as 'udp', see isDtls).
  turns: { port: 5349, transport: 'tls', transports: { tcp: 'tls', udp: 'udp' } },
};

const UNSUPPORTED_SCHEMES: Record<string, string> = {
  stuns: 'stuns: (STUN over TLS) is not supported by browsers or this tester; use stun: or turns:',
};

// reg-name restricted to what DNS host names use (unreserved minus '~').
const HOSTNAME_RE = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;

function fail(message: string, code: UriErrorCode): never {
  throw new UriParseError(message, code);
}

function parsePort(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) fail(`port "${text.slice(0, 12)}" is not a number`, 'bad-port');
  const port = Number(text);
  if (port < 1 || port > 65535) fail(`port ${port} is outside 1-65535`, 'bad-port');
  return port;
}

function parseHost(hostPort: string): { host: string; portText: string | null; ipLiteral: 0 | 4 | 6 } {
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) fail('IPv6 literal has no closing "]"', 'bad-ipv6');
    const inner = hostPort.slice(1, close);
    if (inner.includes('%')) fail('IPv6 zone identifiers are not allowed in ICE URIs', 'bad-ipv6');
    if (isIP(inner) !== 6) fail(`"${inner.slice(0, 60)}" is not an IPv6 address`, 'bad-ipv6');
    const rest = hostPort.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) fail('unexpected text after the IPv6 literal', 'bad-host');
    return { host: inner.toLowerCase(), portText: rest === '' ? null : rest.slice(1), ipLiteral: 6 };
  }
  const colon = hostPort.indexOf(':');
  const hostText = colon < 0 ? hostPort : hostPort.slice(0, colon);
  const portText = colon < 0 ? null : hostPort.slice(colon + 1);
  if (portText !== null && portText.includes(':')) {
    fail('host has more than one ":"; IPv6 addresses must be written in brackets, e.g. turn:[2001:db8::1]:3478', 'bad-host');
  }
  if (hostText === '') fail('the host is empty', 'empty-host');
  if (isIP(hostText) === 4) return { host: hostText, portText, ipLiteral: 4 };
  let host = hostText.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length > 253 || !HOSTNAME_RE.test(host)) fail(`"${hostText.slice(0, 60)}" is not a valid host name`, 'bad-host');
  // An all-numeric last label is a mistyped IPv4 address, not a name (e.g. 10.0.0.300).
  if (/^[0-9]+$/.test(host.slice(host.lastIndexOf('.') + 1))) fail(`"${hostText.slice(0, 60)}" is not a valid IPv4 address`, 'bad-host');
  return { host, portText, ipLiteral: 0 };
}

function parseQuery(scheme: Scheme, query: string): { transport: Transport; explicit: boolean } {
  const spec = SCHEMES[scheme];
  if (query === '') return { transport: spec.transport, explicit: false };
  if (scheme === 'stun') fail('stun: URIs take no query', 'bad-query');
  const m = /^transport=([^&=]*)$/i.exec(query);
  if (!m) fail(`unexpected query "${query.slice(0, 40)}" (only ?transport=udp|tcp is allowed)`, 'bad-query');
  const value = m[1]!.toLowerCase();
  const transport = spec.transports[value];
  if (!transport) fail(`unknown transport "${m[1]!.slice(0, 20)}" (expected udp or tcp)`, 'bad-transport');
  return { transport, explicit: true };
}

/** Parse one ICE server URI; throws UriParseError naming what is wrong. */
export function parseIceUri(input: string): IceUri {
  if (typeof input !== 'string') fail('the URI is not a string', 'empty');
  const raw = input.trim();
  if (raw === '') fail('the URI is empty', 'empty');
  if (raw.length > MAX_URI_LENGTH) fail(`the URI is longer than ${MAX_URI_LENGTH} characters`, 'too-long');
  if (/\s/.test(raw)) fail('the URI contains white space', 'whitespace');
  const colon = raw.indexOf(':');
  const schemeText = (colon < 0 ? raw : raw.slice(0, colon)).toLowerCase();
  if (colon < 0 || !/^[a-z][a-z0-9+.-]*$/.test(schemeText)) fail('the URI has no scheme (expected stun:, turn: or turns:)', 'unknown-scheme');
  const unsupported = UNSUPPORTED_SCHEMES[schemeText];
  if (unsupported) fail(unsupported, 'unsupported-scheme');
  if (!Object.prototype.hasOwnProperty.call(SCHEMES, schemeText)) {
    fail(`unknown scheme "${schemeText.slice(0, 20)}:" (expected stun:, turn: or turns:)`, 'unknown-scheme');
  }
  const scheme = schemeText as Scheme;
  const rest = raw.slice(colon + 1);
  if (rest.includes('@')) fail('user info ("user:password@") is not allowed in ICE URIs; credentials go in separate fields', 'userinfo');
  if (rest.startsWith('//')) fail(`"${scheme}://" is not ICE URI syntax; write ${scheme}:host[:port]`, 'authority');
  if (rest.includes('#')) fail('fragments ("#") are not allowed', 'bad-query');
  const q = rest.indexOf('?');
  const hostPort = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  const { host, portText, ipLiteral } = parseHost(hostPort);
  const { transport, explicit } = parseQuery(scheme, query);
  const port = portText === null ? SCHEMES[scheme].port : parsePort(portText);
  return { raw, scheme, host, port, transport, transportExplicit: explicit, ipLiteral };
}

/** turns: with ?transport=udp asks for DTLS, which neither browsers nor this tester speak. */
export function isDtls(uri: IceUri): boolean {
  return uri.scheme === 'turns' && uri.transport === 'udp';
}


/** host:port with IPv6 in brackets. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A canonical form for comparing URIs (defaults made explicit). */
export function canonicalUri(uri: IceUri): string {
  const base = `${uri.scheme}:${uri.ipLiteral === 6 ? `[${uri.host}]` : uri.host}:${uri.port}`;
  if (uri.scheme === 'stun') return base;
  const t = uri.scheme === 'turns' ? (uri.transport === 'udp' ? 'udp' : 'tcp') : uri.transport;
  return `${base}?transport=${t}`;
}

/** "turn:example.org?transport=udp via 192.0.2.1:3478": what one target is. */
export function formatTarget(uri: IceUri, address: string): string {
  return `${uri.raw} via ${formatHostPort(address, uri.port)}`;
}

/** Best-effort removal of "user:pass@" from a string that failed to parse, for error reports. */
export function redactUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:(?:\/\/)?)[^@/?#\s]*@/i, '$1[redacted]@');
}
