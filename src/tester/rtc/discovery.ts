// RTC-1: where clients find the SFU: the MSC4143 rtc/transports endpoint
// (authenticated), `.well-known/matrix/client` `org.matrix.msc4143.rtc_foci`
// (with its CORS header), and /versions.
import { fetchJson, HttpError } from '../credentials/http';
import type { Secret } from '../secret';
import type { Finding } from '../types';
import { rtcFinding, type RtcContext } from './context';

export interface Discovery {
  /** livekit_service_url values, endpoint's first, deduplicated. */
  serviceUrls: string[];
  endpoint: string[] | null;
  wellKnown: string[] | null;
  finding: Finding;
}

const FOCI_KEY = 'org.matrix.msc4143.rtc_foci';

function livekitUrls(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((t): t is { type: string; livekit_service_url: string } => typeof t === 'object' && t !== null && (t as { type?: unknown }).type === 'livekit' && typeof (t as { livekit_service_url?: unknown }).livekit_service_url === 'string')
    .map((t) => t.livekit_service_url.replace(/\/+$/, '').slice(0, 300));
}

/** `wellKnownBase`: where clients look for .well-known (the server name's https origin, or what the user typed). */
export async function discoverTransports(ctx: RtcContext, baseUrl: string, token: Secret, wellKnownBase = baseUrl): Promise<Discovery> {
  const auth = { authorization: `Bearer ${token.reveal()}` };
  const t = ctx.cap(5000);
  const [ep, wk, ver] = await Promise.all([
    fetchJson(`${baseUrl}/_matrix/client/unstable/org.matrix.msc4143/rtc/transports`, { headers: auth, timeoutMs: t, checkAddress: ctx.homeserverCheck }).then(
      (r) => ({ ok: true as const, urls: livekitUrls((r.json as { rtc_transports?: unknown })?.rtc_transports) }),
      (e: HttpError) => ({ ok: false as const, status: e.status ?? null, error: e.message }),
    ),
    fetchJson(`${new URL(wellKnownBase).origin}/.well-known/matrix/client`, { timeoutMs: t, checkAddress: ctx.homeserverCheck, headers: { origin: 'https://app.element.io' } }).then(
      (r) => ({ ok: true as const, urls: livekitUrls((r.json as Record<string, unknown>)?.[FOCI_KEY]), cors: r.headers?.['access-control-allow-origin'] ?? null }),
      (e: HttpError) => ({ ok: false as const, status: e.status ?? null, error: e.message }),
    ),
    fetchJson(`${baseUrl}/_matrix/client/versions`, { timeoutMs: t, checkAddress: ctx.homeserverCheck }).then(
      (r) => (r.json as { unstable_features?: Record<string, unknown> })?.unstable_features ?? {},
      () => ({}) as Record<string, unknown>,
    ),
  ]);
  const endpoint = ep.ok ? ep.urls : null;
  const wellKnown = wk.ok ? wk.urls : null;
  const serviceUrls = [...new Set([...(endpoint ?? []), ...(wellKnown ?? [])])];
  const features = { 'org.matrix.msc4143': ver['org.matrix.msc4143'] === true, 'org.matrix.msc4140': ver['org.matrix.msc4140'] === true };
  const evidence = {
    endpoint: ep.ok ? { transports: ep.urls } : { status: ep.status, error: ep.error },
    wellKnown: wk.ok ? { rtcFoci: wk.urls, cors: wk.cors } : { status: wk.status, error: wk.error },
    unstableFeatures: features,
  };
  const has = (l: string[] | null) => (l ?? []).length > 0;
  let f: Finding;
  if (!has(endpoint) && !has(wellKnown)) {
    const cause = !ep.ok && (ep.status === 404 || ep.status === 400) && !has(wellKnown) ? 'none' : 'none';
    f = rtcFinding('RTC-1', null, {
      status: ctx.options.force ? 'fail' : 'info',
      severity: 'high',
      cause,
      summary: 'No MatrixRTC (LiveKit) transport is advertised: Element Call and Element X cannot place calls on this homeserver.',
      evidence,
    });
  } else if (!has(endpoint)) {
    f = rtcFinding('RTC-1', null, {
      status: 'warn',
      severity: 'medium',
      cause: ep.ok ? 'well-known-only' : 'msc4143-off',
      summary: ep.ok
        ? 'The transport is only in .well-known/matrix/client; the homeserver\'s rtc/transports endpoint lists none.'
        : `The homeserver does not serve the MSC4143 rtc/transports endpoint (${ep.status ? `HTTP ${ep.status}` : 'no answer'}); only .well-known lists the transport.`,
      evidence,
    });
  } else if (!has(wellKnown)) {
    f = rtcFinding('RTC-1', null, { status: 'warn', severity: 'low', cause: 'endpoint-only', summary: 'The transport is only on the rtc/transports endpoint; .well-known/matrix/client has no rtc_foci (older Element X reads only that).', evidence });
  } else if (endpoint!.join() !== wellKnown!.join()) {
    f = rtcFinding('RTC-1', null, { status: 'warn', severity: 'medium', cause: 'disagree', summary: 'The rtc/transports endpoint and .well-known name different LiveKit services.', evidence });
  } else if (wk.ok && !wk.cors) {
    f = rtcFinding('RTC-1', null, { status: 'warn', severity: 'medium', cause: 'no-cors', summary: '.well-known/matrix/client lists the transport but sends no Access-Control-Allow-Origin header: browsers cannot read it.', evidence });
  } else {
    f = rtcFinding('RTC-1', null, { status: 'pass', summary: `MatrixRTC transport advertised on the endpoint and in .well-known: ${serviceUrls.join(', ')}.`, evidence });
  }
  return { serviceUrls, endpoint, wellKnown, finding: f };
}
