// RTC-5: the SFU's signalling at the token's `url`: DNS, TCP, TLS, GET
// /rtc/validate with the token, then a WebSocket join whose answer lists the
// ICE servers (RTC-6) and whose trickled candidates show where media would go
// (RTC-7). The probe participant leaves at once.
import { lookup } from 'node:dns/promises';
import { LeaveRequest, LeaveRequest_Action, DisconnectReason, SignalRequest, SignalResponse } from '@livekit/protocol';
import { fetchJson, HttpError } from '../credentials/http';
import type { Finding } from '../types';
import { rtcFinding, type RtcContext } from './context';
import type { LiveKitGrant } from './service';
import { openWs } from './ws';

export interface SfuCandidate {
  protocol: 'udp' | 'tcp';
  address: string;
  port: number;
  type: string;
}

export interface JoinInfo {
  /** The SFU's signalling address (what "public" is judged against). */
  sfuAddress: string;
  iceServers: { urls: string[]; username: string; credential: string }[];
  candidates: SfuCandidate[];
  serverVersion: string | null;
}

export function parseCandidate(line: string): SfuCandidate | null {
  const m = /candidate:\S+ \d+ (udp|tcp) \d+ (\S+) (\d+) typ (\S+)(.*)$/i.exec(line);
  if (!m) return null;
  if (m[1].toLowerCase() === 'tcp' && !/tcptype passive/.test(m[5])) return null;
  return { protocol: m[1].toLowerCase() as 'udp' | 'tcp', address: m[2], port: Number(m[3]), type: m[4] };
}

function sfuWhere(sfuUrl: string): { host: string; port: number; secure: boolean } {
  const u = new URL(sfuUrl);
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (secure ? 443 : 80)), secure };
}

export async function checkSignalling(ctx: RtcContext, serviceUrl: string, grant: LiveKitGrant): Promise<{ finding: Finding; join: JoinInfo | null }> {
  const w = sfuWhere(grant.sfuUrl);
  const fail = (cause: string, summary: string, evidence: Record<string, unknown> = {}) => ({
    join: null,
    finding: rtcFinding('RTC-5', serviceUrl, { status: 'fail', severity: 'high', cause, summary, evidence: { sfuUrl: grant.sfuUrl, address: w.host, port: w.port, ...evidence } }),
  });
  let address: string;
  try {
    address = (await lookup(w.host)).address;
  } catch (e) {
    return fail('dns', `The SFU host ${w.host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  const refused = ctx.allowed(address);
  if (refused) throw new HttpError(`SFU ${grant.sfuUrl}: ${refused}`, 'refused');
  const http = `${w.secure ? 'https' : 'http'}://${w.host.includes(':') ? `[${w.host}]` : w.host}:${w.port}`;
  const jwt = grant.jwt.reveal();
  let validate: number | null = null;
  try {
    validate = (await fetchJson(`${http}/rtc/validate?access_token=${encodeURIComponent(jwt)}`, { timeoutMs: ctx.cap(3000), checkAddress: ctx.checkAddress })).status;
  } catch (e) {
    const he = e as HttpError;
    if (he.kind === 'bad-json' && he.status === 200) validate = 200; // LiveKit answers "success" as text
    else if (he.kind === 'http' && he.status) {
      const status = he.status;
      if (status === 401) return fail('token-rejected', 'LiveKit rejected the token at /rtc/validate (401): the authorization service signs with a key LiveKit does not have.', { validateStatus: status });
      if (status === 404) return fail('no-room', 'LiveKit says the room does not exist (/rtc/validate 404): the service did not create it and LiveKit does not auto-create rooms.', { validateStatus: status });
      return fail('join-failed', `/rtc/validate answered HTTP ${status}.`, { validateStatus: status });
    } else {
      const cause = he.kind === 'timeout' ? 'filtered' : /CERT|SSL|certificate|ERR_TLS/i.test(he.message) ? 'tls' : 'refused';
      return fail(cause, `The SFU's signalling at ${w.host}:${w.port} is unreachable: ${he.message}.`, { address });
    }
  }
  const t0 = performance.now();
  const ws = await openWs(`${w.secure ? 'wss' : 'ws'}://${w.host.includes(':') ? `[${w.host}]` : w.host}:${w.port}/rtc?access_token=${encodeURIComponent(jwt)}&auto_subscribe=0&sdk=js&protocol=15`, {
    timeoutMs: ctx.cap(4000),
    checkAddress: ctx.checkAddress,
    ca: ctx.ca,
  });
  if (ws.kind !== 'message') {
    return fail(ws.kind === 'http' && ws.status === 401 ? 'token-rejected' : 'join-failed', `The WebSocket join failed: ${ws.kind === 'http' ? `HTTP ${ws.status}` : ws.message}.`, { validateStatus: validate });
  }
  const join: JoinInfo = { sfuAddress: address, iceServers: [], candidates: [], serverVersion: null };
  let gotJoin = false;
  const onMessage = (data: Buffer) => {
    let m: SignalResponse;
    try {
      m = SignalResponse.fromBinary(data);
    } catch {
      return;
    }
    if (m.message.case === 'join') {
      gotJoin = true;
      join.serverVersion = m.message.value.serverInfo?.version ?? null;
      join.iceServers = m.message.value.iceServers.map((s) => ({ urls: s.urls.map((u) => u.slice(0, 300)), username: s.username, credential: s.credential }));
    } else if (m.message.case === 'trickle') {
      try {
        const c = parseCandidate(String((JSON.parse(m.message.value.candidateInit) as { candidate?: unknown }).candidate ?? ''));
        if (c && !join.candidates.some((x) => x.protocol === c.protocol && x.address === c.address && x.port === c.port)) join.candidates.push(c);
      } catch {
        /* not a candidate */
      }
    }
  };
  onMessage(ws.data);
  // The subscriber offer and its candidates follow the join within a few ms; wait until both protocols showed up (bounded).
  const until = performance.now() + Math.min(800, ctx.cap(800));
  await new Promise<void>((resolve) => {
    ws.socket.onMessage((d) => {
      onMessage(d);
      if (join.candidates.some((c) => c.protocol === 'udp') && join.candidates.some((c) => c.protocol === 'tcp')) resolve();
    });
    const tick = setInterval(() => {
      if (performance.now() > until) {
        clearInterval(tick);
        resolve();
      }
    }, 50);
  });
  try {
    ws.socket.send(new SignalRequest({ message: { case: 'leave', value: new LeaveRequest({ canReconnect: false, reason: DisconnectReason.CLIENT_INITIATED, action: LeaveRequest_Action.DISCONNECT }) } }).toBinary());
  } catch {
    /* closing anyway */
  }
  ws.socket.close();
  const joinMs = Math.round(performance.now() - t0);
  if (!gotJoin) return fail('join-failed', 'The SFU accepted the WebSocket but its first message was not a join response.', { validateStatus: validate });
  const urls = join.iceServers.flatMap((s) => s.urls);
  return {
    join,
    finding: rtcFinding('RTC-5', serviceUrl, {
      status: 'pass',
      summary: `LiveKit signalling at ${grant.sfuUrl} works (join in ${joinMs} ms); it hands out ${urls.length} ICE server URL(s).`,
      evidence: { sfuUrl: grant.sfuUrl, address, port: w.port, validateStatus: validate, joinMs, serverVersion: join.serverVersion, iceServers: urls, candidates: join.candidates },
    }),
  };
}
