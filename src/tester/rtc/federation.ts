// RTC-4: the OpenID check the authorization service makes, done the same
// way: the homeserver's federation API (.well-known/matrix/server, else
// port 8448) GET /_matrix/federation/v1/openid/userinfo?access_token=.
import { fetchJson, HttpError } from '../credentials/http';
import type { Finding } from '../types';
import { rtcFinding, type OpenIdToken, type RtcContext } from './context';

/** Federation base URL of a server name (the server-discovery steps that need no SRV: explicit port, .well-known, 8448). */
export async function federationBase(ctx: RtcContext, serverName: string): Promise<string> {
  if (ctx.options.federationUrl) return ctx.options.federationUrl.replace(/\/+$/, '');
  if (/:\d+$/.test(serverName) || /^\[.*\]$/.test(serverName)) return `https://${serverName}`;
  try {
    const r = await fetchJson(`https://${serverName}/.well-known/matrix/server`, { timeoutMs: ctx.cap(3000), checkAddress: ctx.checkAddress });
    const s = (r.json as { 'm.server'?: unknown })?.['m.server'];
    if (typeof s === 'string' && /^[a-z0-9.\-[\]:]+$/i.test(s)) return `https://${/:\d+$/.test(s) ? s : `${s}:8448`}`;
  } catch {
    /* no delegation: port 8448 */
  }
  return `https://${serverName}:8448`;
}

export async function checkOpenIdFederation(ctx: RtcContext, openid: OpenIdToken, userId: string): Promise<Finding> {
  const base = await federationBase(ctx, openid.matrixServerName);
  const evidence: Record<string, unknown> = { federationUrl: base, serverName: openid.matrixServerName };
  try {
    const r = await fetchJson(`${base}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(openid.accessToken.reveal())}`, { timeoutMs: ctx.cap(3000), checkAddress: ctx.checkAddress });
    const sub = (r.json as { sub?: unknown })?.sub;
    if (sub === userId) return rtcFinding('RTC-4', null, { status: 'pass', summary: `The federation API at ${base} verifies the OpenID token (sub ${userId}).`, evidence });
    return rtcFinding('RTC-4', null, { status: 'fail', severity: 'high', cause: 'token-rejected', summary: `The federation API at ${base} answered for another user.`, evidence: { ...evidence, sub: String(sub).slice(0, 100) } });
  } catch (e) {
    const he = e as HttpError;
    if (he.kind === 'refused' && !/ECONNREFUSED/.test(he.message)) throw e;
    const notServing = he.kind === 'http' && (he.status === 404 || he.status === 405 || he.errcode === 'M_UNRECOGNIZED');
    const rejected = he.kind === 'http' && he.status === 401;
    return rtcFinding('RTC-4', null, {
      status: 'fail',
      severity: 'high',
      cause: notServing ? 'not-serving' : rejected ? 'token-rejected' : 'unreachable',
      summary: notServing
        ? `${base} does not serve /_matrix/federation/v1/openid/userinfo (HTTP ${he.status}): the authorization service cannot verify OpenID tokens.`
        : `The federation API at ${base} ${rejected ? 'rejected the homeserver\'s own OpenID token' : `is unreachable (${he.message})`}: the authorization service cannot verify OpenID tokens.`,
      evidence: { ...evidence, status: he.status ?? null, error: he.message },
    });
  }
}
