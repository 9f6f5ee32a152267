// RTC-6: the TURN servers LiveKit hands out in its join response. Each one
// is named; a `turns:` URI on 443 with nothing listening is called out
// (LiveKit advertises `turns:<turn.domain>:443` whatever `turn.tls_port` is).
// The deep TURN checks (AUTH-2, ALLOC-1, DATA-1 ...) run through the TURN
// engine on these URIs, with their findings in the rtc scope.
import { connect } from 'node:net';
import { lookup } from 'node:dns/promises';
import { parseIceUri } from '../uri';
import type { Finding } from '../types';
import { rtcFinding, type RtcContext } from './context';

export interface LiveKitIceServer {
  urls: string[];
  username: string;
  credential: string;
}

function tcpOpen(address: string, port: number, timeoutMs: number): Promise<'open' | 'refused' | 'silent'> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    const done = (v: 'open' | 'refused' | 'silent') => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done('silent'));
    s.once('connect', () => done('open'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'silent'));
  });
}

export async function checkLiveKitTurn(ctx: RtcContext, serviceUrl: string, servers: LiveKitIceServer[]): Promise<{ findings: Finding[]; relayUsable: boolean; turns443Works: boolean }> {
  const urls = servers.flatMap((s) => s.urls).filter((u) => /^turns?:/i.test(u));
  if (urls.length === 0) {
    return {
      relayUsable: false,
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
    if (uri.scheme !== 'turns' || uri.port !== 443) {
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'info', summary: `LiveKit hands out ${raw}.`, evidence: { host: uri.host, port: uri.port, transport: uri.transport } }));
      continue;
    }
    let address: string;
    try {
      address = uri.ipLiteral ? uri.host : (await lookup(uri.host)).address;
    } catch {
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'fail', severity: 'medium', cause: 'tls-443-dead', summary: `LiveKit advertises ${raw}, but ${uri.host} does not resolve.`, evidence: { host: uri.host, port: 443 } }));
      continue;
    }
    const refused = ctx.allowed(address);
    if (refused) {
      findings.push(rtcFinding('RTC-6', serviceUrl, { uri: raw, status: 'skip', summary: `not tested: ${refused}`, evidence: { reason: refused } }));
      continue;
    }
    const r = await tcpOpen(address, 443, ctx.cap(1500));
    if (r === 'open') {
      turns443Works = true;
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
  return { findings, relayUsable: urls.some((u) => /^turn:/i.test(u)) || turns443Works, turns443Works };
}
