// RTC-6: the TURN servers LiveKit hands out in its join response. Each one
// is named; a `turns:` URI on 443 with nothing listening is called out
// (LiveKit advertises `turns:<turn.domain>:443` whatever `turn.tls_port` is).
// The deep TURN checks (AUTH-2, ALLOC-1, DATA-1 ...) run through the TURN
// engine on these URIs, with their findings in the rtc scope.
import { lookup } from 'node:dns/promises';
import { classifyAddress } from '../guard';
import { parseIceUri } from '../uri';
import type { Finding } from '../types';
import { rtcFinding, tcpProbe, type RtcContext } from './context';

export interface LiveKitIceServer {
  urls: string[];
  username: string;
  credential: string;
}


export interface TurnCheck {
  findings: Finding[];
  /** The TURN URLs (with their credentials) a client may use: guard passed, not private behind a public SFU. */
  usable: LiveKitIceServer[];
  turns443Works: boolean;
}

export async function checkLiveKitTurn(ctx: RtcContext, serviceUrl: string, servers: LiveKitIceServer[], sfuAddress: string): Promise<TurnCheck> {
  const urls = servers.flatMap((s) => s.urls).filter((u) => /^turns?:/i.test(u));
  const usableUrls = new Set<string>();
  if (urls.length === 0) {
    return {
      usable: [],
      turns443Works: false,
      findings: [rtcFinding('RTC-6', serviceUrl, { status: 'warn', severity: 'medium', cause: 'none', summary: 'LiveKit hands out no TURN server: clients behind firewalls that block UDP and 7881/tcp cannot join calls.', evidence: { iceServers: servers.flatMap((s) => s.urls) } })],
    };
  }
  const findings: Finding[] = [];
  let turns443Works = false;
  for (const raw of urls.slice(0, 6)) {
    let uri;
    try {
      uri = parseIceUri(raw);
    } catch (e) {
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'warn', severity: 'low', summary: `LiveKit hands out an unparsable ICE server URI: ${(e as Error).message}.`, evidence: {} }));
      continue;
    }
    let address: string;
    try {
      address = uri.ipLiteral ? uri.host : (await lookup(uri.host)).address;
    } catch {
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'fail', severity: 'medium', cause: uri.port === 443 && uri.scheme === 'turns' ? 'tls-443-dead' : 'default', summary: `LiveKit advertises ${raw}, but ${uri.host} does not resolve.`, evidence: { host: uri.host, port: uri.port } }));
      continue;
    }
    if (ctx.hiddenBehindPublic(address, sfuAddress)) {
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'fail', severity: 'high', cause: 'private', summary: `LiveKit hands out ${raw}, ${classifyAddress(address).label}: clients on the Internet cannot reach it (not probed).`, evidence: { host: uri.host, address, range: classifyAddress(address).range } }));
      continue;
    }
    const refused = ctx.allowed(address);
    if (refused) {
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'skip', summary: `not tested: ${refused}`, evidence: { reason: refused } }));
      continue;
    }
    if (uri.scheme !== 'turns' || uri.port !== 443) {
      usableUrls.add(raw);
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'info', summary: `LiveKit hands out ${raw}.`, evidence: { host: uri.host, address, port: uri.port, transport: uri.transport } }));
      continue;
    }
    const r = await tcpProbe(address, 443, ctx.cap(1500));
    if (r === 'open') {
      turns443Works = true;
      usableUrls.add(raw);
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'pass', summary: `${raw}: something listens on ${address}:443.`, evidence: { host: uri.host, address, port: 443 } }));
    } else {
      findings.push(
        rtcFinding('RTC-6', serviceUrl, {
          uri: raw,
          status: 'fail',
          severity: 'medium',
          cause: 'tls-443-dead',
          summary: `LiveKit advertises ${raw} but nothing ${r === 'refused' ? 'listens' : 'answers'} on ${address}:443 (LiveKit always advertises 443 for TURN/TLS, whatever turn.tls_port is).`,
          evidence: { host: uri.host, address, port: 443, result: r },
        }),
      );
    }
  }
  const usable = servers.map((s) => ({ ...s, urls: s.urls.filter((u) => usableUrls.has(u)) })).filter((s) => s.urls.length > 0);
  return { findings, usable, turns443Works };
}
