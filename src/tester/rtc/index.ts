// The MatrixRTC part of a run (CHECKS.md RTC-1..RTC-8): discovery with the
// Matrix session, then per advertised LiveKit transport: authorization
// service, token, signalling, LiveKit's TURN, media paths, a two-party call.
// Plain functions; the engine calls homeserverPhase inside the Matrix session
// (the access token is needed only there) and runTransports afterwards.
import { randomBytes } from 'node:crypto';
import { fetchJson, HttpError } from '../credentials/http';
import { Secret } from '../secret';
import type { Finding, Grade, RtcPath } from '../types';
import { rtcFinding, type OpenIdToken, type RtcContext } from './context';
import { discoverTransports } from './discovery';
import { checkOpenIdFederation } from './federation';
import { checkCall, checkPaths } from './media';
import { checkService, judgeToken, requestToken } from './service';
import { checkSignalling } from './signalling';
import { checkLiveKitTurn } from './turn';

export interface RtcSession {
  userId: string;
  deviceId: string;
  openid: OpenIdToken | null;
  openidError: string | null;
  serviceUrls: string[];
  findings: Finding[];
}

/** Inside the Matrix session: who we are, where the transports are, an OpenID token. */
export async function homeserverPhase(ctx: RtcContext, baseUrl: string, token: Secret, wellKnownBase = baseUrl): Promise<RtcSession> {
  const auth = { authorization: `Bearer ${token.reveal()}` };
  const who = await fetchJson(`${baseUrl}/_matrix/client/v3/account/whoami`, { headers: auth, timeoutMs: ctx.cap(5000), checkAddress: ctx.homeserverCheck });
  const w = who.json as { user_id?: unknown; device_id?: unknown };
  const userId = typeof w?.user_id === 'string' ? w.user_id : '';
  const deviceId = typeof w?.device_id === 'string' ? w.device_id : 'MXVOIPTEST';
  const discovery = await discoverTransports(ctx, baseUrl, token, wellKnownBase);
  const serviceUrls = [...new Set([...(ctx.options.serviceUrl ? [ctx.options.serviceUrl.replace(/\/+$/, '')] : []), ...discovery.serviceUrls])];
  let openid: OpenIdToken | null = null;
  let openidError: string | null = null;
  if (serviceUrls.length > 0 && userId) {
    try {
      const r = await fetchJson(`${baseUrl}/_matrix/client/v3/user/${encodeURIComponent(userId)}/openid/request_token`, { method: 'POST', body: {}, headers: auth, timeoutMs: ctx.cap(5000), checkAddress: ctx.homeserverCheck });
      const j = r.json as { access_token?: unknown; token_type?: unknown; matrix_server_name?: unknown; expires_in?: unknown };
      if (typeof j?.access_token === 'string' && typeof j.matrix_server_name === 'string') {
        openid = { accessToken: new Secret(j.access_token), tokenType: String(j.token_type ?? 'Bearer'), matrixServerName: j.matrix_server_name, expiresIn: Number(j.expires_in ?? 3600) };
      } else openidError = 'the answer has no access_token/matrix_server_name';
    } catch (e) {
      openidError = (e as HttpError).message;
    }
  }
  return { userId, deviceId, openid, openidError, serviceUrls, findings: [discovery.finding] };
}

export interface RtcTransportReport {
  serviceUrl: string;
  sfuUrl: string | null;
  grade: Grade;
  iceServers: string[];
  /** Which media paths worked (RTC-7). */
  paths: Record<RtcPath, boolean>;
}

export interface RtcResult {
  findings: Finding[];
  transports: RtcTransportReport[];
}

/** The MatrixRTC grade of one transport (CHECKS.md). */
export function gradeTransport(t: { token: boolean; signalling: boolean; paths: Record<RtcPath, boolean>; turns443: boolean }): Grade {
  if (!t.token || !t.signalling) return 'Fail';
  const any = t.paths.udp || t.paths.tcp || t.paths.relay;
  if (!any) return 'Poor';
  if (!(t.paths.udp && (t.paths.tcp || t.paths.relay))) return 'Good';
  return t.turns443 ? 'Excellent' : 'Great';
}

const skip = (id: 'RTC-3' | 'RTC-4' | 'RTC-5' | 'RTC-6' | 'RTC-7' | 'RTC-8', serviceUrl: string | null, reason: string) =>
  rtcFinding(id, serviceUrl, { status: 'skip', summary: reason, evidence: { reason } });

async function runTransport(ctx: RtcContext, s: RtcSession, serviceUrl: string, rtc4: Finding | null): Promise<{ findings: Finding[]; report: RtcTransportReport }> {
  const findings: Finding[] = [];
  const report: RtcTransportReport = { serviceUrl, sfuUrl: null, grade: 'Fail', iceServers: [], paths: { udp: false, tcp: false, relay: false } };
  const rest = (from: number, reason: string) => {
    for (const id of (['RTC-3', 'RTC-5', 'RTC-6', 'RTC-7', 'RTC-8'] as const).slice(from)) findings.push(skip(id, serviceUrl, reason));
  };
  const svc = await checkService(ctx, serviceUrl);
  findings.push(svc.finding);
  if (!svc.up) {
    rest(0, 'not run: RTC-2 failed');
    return { findings, report };
  }
  const roomId = `!mxv-${randomBytes(6).toString('hex')}:${s.openid?.matrixServerName ?? 'localhost'}`;
  const member = (memberId: string) => ({ userId: s.userId, deviceId: s.deviceId, memberId, roomId });
  const first = s.openid ? await requestToken(ctx, serviceUrl, s.openid, member('mxv-probe')) : null;
  findings.push(judgeToken(serviceUrl, first ?? { ok: false, status: null, errcode: null, endpoint: '/get_token', message: 'no OpenID token' }, s.openid ? null : (s.openidError ?? 'no OpenID token'), rtc4));
  if (!first?.ok) {
    rest(1, 'not run: RTC-3 failed');
    return { findings, report };
  }
  report.sfuUrl = first.grant.sfuUrl;
  const sig = await checkSignalling(ctx, serviceUrl, first.grant);
  findings.push(sig.finding);
  if (!sig.join) {
    rest(2, 'not run: RTC-5 failed');
    return { findings, report };
  }
  report.iceServers = sig.join.iceServers.flatMap((x) => x.urls);
  const turn = await checkLiveKitTurn(ctx, serviceUrl, sig.join.iceServers, sig.join.sfuAddress);
  findings.push(...turn.findings);
  let turns443 = false;
  if (ctx.options.media === false) {
    findings.push(skip('RTC-7', serviceUrl, 'not run: media checks are off'), skip('RTC-8', serviceUrl, 'not run: media checks are off'));
  } else {
    const tokens = async (memberId: string) => {
      const o = await requestToken(ctx, serviceUrl, s.openid!, member(memberId));
      return o.ok ? { sfuUrl: o.grant.sfuUrl, jwt: o.grant.jwt.reveal() } : null;
    };
    const media = await checkPaths(ctx, serviceUrl, tokens, sig.join, turn.usable);
    findings.push(...media.findings);
    report.paths = media.works;
    turns443 = turn.turns443Works && media.works.relay;
    findings.push(media.works.udp || media.works.tcp || media.works.relay ? await checkCall(ctx, serviceUrl, tokens, turn.usable) : skip('RTC-8', serviceUrl, 'not run: no media path (RTC-7)'));
  }
  report.grade = gradeTransport({ token: true, signalling: true, paths: report.paths, turns443 });
  return { findings, report };
}

/** After the session: every transport in turn (at most two participants at once). */
export async function runTransports(ctx: RtcContext, s: RtcSession): Promise<RtcResult> {
  const findings: Finding[] = [...s.findings];
  const transports: RtcTransportReport[] = [];
  if (s.serviceUrls.length === 0) return { findings, transports };
  const rtc4 = s.openid ? await checkOpenIdFederation(ctx, s.openid, s.userId) : skip('RTC-4', null, `not run: no OpenID token (${s.openidError ?? 'no user'})`);
  findings.push(rtc4);
  for (const url of s.serviceUrls.slice(0, 4)) {
    try {
      const r = await runTransport(ctx, s, url, rtc4);
      findings.push(...r.findings);
      transports.push(r.report);
    } catch (e) {
      // A refused target (guard) is named, never probed.
      const he = e as HttpError;
      findings.push(rtcFinding('RTC-2', url, { status: 'skip', summary: `not tested: ${he.message}`, evidence: { reason: he.message } }));
      transports.push({ serviceUrl: url, sfuUrl: null, grade: 'Fail', iceServers: [], paths: { udp: false, tcp: false, relay: false } });
    }
  }
  return { findings, transports };
}
