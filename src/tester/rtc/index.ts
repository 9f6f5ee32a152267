// The MatrixRTC part of a run (CHECKS.md RTC-1..RTC-8): discovery with the
// Matrix session, then per advertised LiveKit transport: authorization
// service, token, signalling, LiveKit's TURN, media paths, a two-party call.
// The engine calls homeserverPhase inside the Matrix session (the access
// token is needed only there) and runTransports afterwards, which runs the
// registry's RTC definitions (checks.ts) with the one runner.
import { randomBytes } from 'node:crypto';
import { fetchJson, HttpError } from '../credentials/http';
import { Secret } from '../secret';
import type { Finding, Grade, RtcPath } from '../types';
import type { CheckOptions } from '../options';
import { RunContext } from '../probes/context';
import { selectChecks } from '../probes/registry';
import { runChecks } from '../probes/runner';
import { RtcSessionUnit, RtcTransportUnit } from './checks';
import type { OpenIdToken, RtcContext } from './context';
import { discoverTransports } from './discovery';

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

/** After the session: the RTC checks of the registry on the session and every transport (at most 4). */
export async function runTransports(ctx: RtcContext, s: RtcSession, options: CheckOptions): Promise<RtcResult> {
  const only = options.only?.filter((id) => id.startsWith('RTC-'));
  const defs = selectChecks(only && only.length > 0 ? only : undefined).filter((d) => d.scope === 'rtc' || d.scope === 'rtc-session');
  const runCtx = new RunContext(options, { uris: [], username: '', password: new Secret(''), ttl: null, source: { kind: 'homeserver' } });
  const session = new RtcSessionUnit(runCtx, ctx, s);
  const room = `!mxv-${randomBytes(6).toString('hex')}:${s.openid?.matrixServerName ?? 'localhost'}`;
  const transports = s.serviceUrls.slice(0, 4).map((url) => new RtcTransportUnit(runCtx, ctx, session, url, room));
  await runChecks(defs, { 'rtc-session': [session], rtc: transports });
  return {
    findings: [...session.findings, ...transports.flatMap((t) => t.findings)],
    transports: transports.map((t) => ({ serviceUrl: t.serviceUrl, sfuUrl: t.grant?.sfuUrl ?? null, grade: t.grade, iceServers: t.join?.iceServers.flatMap((x) => x.urls) ?? [], paths: { ...t.paths } })),
  };
}
