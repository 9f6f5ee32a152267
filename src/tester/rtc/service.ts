// RTC-2 and RTC-3: the MatrixRTC authorization service (lk-jwt-service):
// /healthz, a browser's CORS preflight, then a LiveKit token for a Matrix
// user with /get_token, falling back to the older /sfu/get on 404.
import { fetchJson, HttpError } from '../credentials/http';
import { Secret } from '../secret';
import type { Finding } from '../types';
import { jwtClaims, rtcFinding, type OpenIdToken, type RtcContext } from './context';

const BROWSER_ORIGIN = 'https://app.element.io';

function where(url: string): { address: string; port: number; host: string } {
  const u = new URL(url);
  return { host: u.hostname, address: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
}

function netCause(e: HttpError): string {
  if (e.kind === 'timeout') return 'filtered';
  if (/ECONNREFUSED/.test(e.message)) return 'refused';
  if (/CERT|SSL|self.signed|certificate|ERR_TLS/i.test(e.message)) return 'tls';
  if (e.kind === 'http') return 'http-error';
  return 'refused';
}

/** RTC-2: pass, or the reason the service is unusable (then RTC-3.. are skipped). */
export async function checkService(ctx: RtcContext, serviceUrl: string): Promise<{ finding: Finding; up: boolean }> {
  const w = where(serviceUrl);
  const t0 = performance.now();
  try {
    await fetchJson(`${serviceUrl}/healthz`, { timeoutMs: ctx.cap(3000), checkAddress: ctx.checkAddress });
  } catch (e) {
    const he = e as HttpError;
    if (he.kind === 'refused' && !/ECONNREFUSED/.test(he.message)) throw e;
    const cause = netCause(he);
    return {
      up: false,
      finding: rtcFinding('RTC-2', serviceUrl, {
        status: 'fail',
        severity: 'high',
        cause,
        summary: `The authorization service at ${serviceUrl} is unusable: ${he.message}.`,
        evidence: { ...w, status: he.status ?? null, error: he.message },
      }),
    };
  }
  const healthMs = Math.round(performance.now() - t0);
  let cors: string | null = null;
  try {
    const r = await fetchJson(`${serviceUrl}/get_token`, {
      method: 'OPTIONS',
      timeoutMs: ctx.cap(3000),
      checkAddress: ctx.checkAddress,
      headers: { origin: BROWSER_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    cors = String(r.headers?.['access-control-allow-origin'] ?? '') || null;
  } catch {
    cors = null;
  }
  const evidence = { ...w, healthMs, corsAllowOrigin: cors };
  if (cors !== '*' && cors !== BROWSER_ORIGIN) {
    return { up: true, finding: rtcFinding('RTC-2', serviceUrl, { status: 'warn', severity: 'medium', cause: 'no-cors', summary: 'The authorization service answers, but its CORS preflight does not allow browser origins (Element Web and Element Call run in browsers).', evidence }) };
  }
  return { up: true, finding: rtcFinding('RTC-2', serviceUrl, { status: 'pass', summary: `The authorization service answers /healthz in ${healthMs} ms and allows browser origins.`, evidence }) };
}

export interface LiveKitGrant {
  sfuUrl: string;
  jwt: Secret;
  claims: Record<string, unknown> | null;
  endpoint: '/get_token' | '/sfu/get';
}

export type TokenOutcome = { ok: true; grant: LiveKitGrant } | { ok: false; status: number | null; errcode: string | null; endpoint: string; message: string };

/** One LiveKit token from the service for (room, member). */
export async function requestToken(ctx: RtcContext, serviceUrl: string, openid: OpenIdToken, member: { userId: string; deviceId: string; memberId: string; roomId: string }): Promise<TokenOutcome> {
  const openidToken = { access_token: openid.accessToken.reveal(), token_type: openid.tokenType, matrix_server_name: openid.matrixServerName, expires_in: openid.expiresIn };
  const post = async (path: '/get_token' | '/sfu/get', body: unknown): Promise<TokenOutcome> => {
    try {
      const r = await fetchJson(`${serviceUrl}${path}`, { method: 'POST', body, timeoutMs: ctx.cap(5000), checkAddress: ctx.checkAddress });
      const j = r.json as { url?: unknown; jwt?: unknown };
      if (typeof j?.url !== 'string' || typeof j?.jwt !== 'string') return { ok: false, status: r.status, errcode: null, endpoint: path, message: 'answer without url/jwt' };
      return { ok: true, grant: { sfuUrl: j.url.slice(0, 300), jwt: new Secret(j.jwt), claims: jwtClaims(j.jwt), endpoint: path } };
    } catch (e) {
      const he = e as HttpError;
      return { ok: false, status: he.status ?? null, errcode: he.errcode ?? null, endpoint: path, message: he.message };
    }
  };
  const first = await post('/get_token', {
    room_id: member.roomId,
    slot_id: 'm.call#ROOM',
    openid_token: openidToken,
    member: { id: member.memberId, claimed_user_id: member.userId, claimed_device_id: member.deviceId },
  });
  if (first.ok || first.status !== 404) return first;
  // /sfu/get names the LiveKit identity user:device: one device id per probe participant, or they would replace each other.
  return post('/sfu/get', { room: member.roomId, openid_token: openidToken, device_id: `${member.deviceId}_${member.memberId}` });
}

const CAUSE_BY_STATUS: Record<number, string> = { 401: 'unauthorized', 500: 'room-create', 400: 'bad-request' };

/** RTC-3 from the first token request. */
export function judgeToken(serviceUrl: string, o: TokenOutcome, openidRefused: string | null, rtc4: Finding | null): Finding {
  if (openidRefused) {
    return rtcFinding('RTC-3', serviceUrl, { status: 'fail', severity: 'high', cause: 'openid-failed', summary: `The homeserver gave no OpenID token: ${openidRefused}.`, evidence: { error: openidRefused } });
  }
  if (!o.ok) {
    const cause = o.status === null ? 'unreachable' : (CAUSE_BY_STATUS[o.status] ?? 'default');
    const why =
      cause === 'unauthorized'
        ? `the service could not verify the OpenID token${rtc4 && rtc4.status === 'fail' ? ` (RTC-4: the homeserver's federation openid lookup fails: ${rtc4.summary})` : rtc4 && rtc4.status === 'pass' ? ' although the federation lookup works from here (the service cannot reach it, or looks elsewhere)' : ''}`
        : cause === 'room-create'
          ? 'the service cannot create the room on LiveKit (its LIVEKIT_KEY/LIVEKIT_SECRET differ from LiveKit\'s keys, or LiveKit\'s API is unreachable from it)'
          : cause === 'bad-request'
            ? 'the service rejected the request (client/service version skew)'
            : o.message;
    return rtcFinding('RTC-3', serviceUrl, {
      status: 'fail',
      severity: 'high',
      cause,
      summary: `No LiveKit token from ${o.endpoint} (${o.status ? `HTTP ${o.status}${o.errcode ? ` ${o.errcode}` : ''}` : 'no answer'}): ${why}.`,
      evidence: { endpoint: o.endpoint, status: o.status, errcode: o.errcode },
    });
  }
  const g = o.grant;
  const evidence = { endpoint: g.endpoint, sfuUrl: g.sfuUrl, claims: g.claims };
  if (!g.claims?.roomJoin) return rtcFinding('RTC-3', serviceUrl, { status: 'fail', severity: 'high', cause: 'no-join-grant', summary: 'The LiveKit token carries no room-join grant.', evidence });
  if (g.endpoint === '/sfu/get') {
    return rtcFinding('RTC-3', serviceUrl, { status: 'warn', severity: 'low', cause: 'legacy-only', summary: 'A LiveKit token came only from the older /sfu/get endpoint (/get_token is 404): an old lk-jwt-service release.', evidence });
  }
  return rtcFinding('RTC-3', serviceUrl, { status: 'pass', summary: `LiveKit token from ${g.endpoint} with a join grant for ${g.sfuUrl}.`, evidence });
}
