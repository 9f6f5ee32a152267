// Credentials from a homeserver: GET /_matrix/client/v3/voip/turnServer with an
// access token (or a password login that is logged out afterwards), with
// .well-known discovery of the client URL. HS-1/HS-2 are judged by probes/homeserver-turn.ts
// from the outcome returned here; this module only fetches and classifies.
import { Secret } from '../secret';
import { fetchJson, HttpError, type AddressCheck } from './http';
import type { TurnCredentials } from './types';

export type TurnServerOutcome =
  | { kind: 'ok'; credentials: TurnCredentials; raw: { uriCount: number; ttl: number | null } }
  | { kind: 'empty'; detail: string }
  | { kind: 'malformed'; detail: string }
  | { kind: 'http-error'; status: number; errcode?: string; detail: string }
  | { kind: 'rate-limited'; retryAfterMs?: number; detail: string }
  | { kind: 'unreachable'; detail: string };

/** Normalise what a user typed ("example.org", "https://matrix.example.org/") to a base URL. */
export function normaliseHomeserverInput(input: string): { baseUrl: string; serverName: string | null } {
  const s = input.trim();
  if (/^https?:\/\//i.test(s)) {
    const u = new URL(s);
    return { baseUrl: `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`, serverName: null };
  }
  if (!/^[a-z0-9.\-:[\]]+$/i.test(s) || s.length === 0) throw new Error(`"${s.slice(0, 80)}" is not a homeserver URL or server name`);
  return { baseUrl: `https://${s}`, serverName: s };
}

/** Resolve the client-server API base URL, following .well-known/matrix/client when it exists. */
export async function discoverClientUrl(input: string, timeoutMs = 5000, checkAddress?: AddressCheck): Promise<string> {
  const { baseUrl } = normaliseHomeserverInput(input);
  try {
    const { json } = await fetchJson(`${baseUrl}/.well-known/matrix/client`, { timeoutMs, checkAddress });
    const hs = (json as { 'm.homeserver'?: { base_url?: unknown } } | undefined)?.['m.homeserver']?.base_url;
    if (typeof hs === 'string' && /^https?:\/\//i.test(hs)) return hs.replace(/\/+$/, '');
  } catch {
    // No .well-known: the input is the client URL itself.
  }
  return baseUrl;
}

export async function passwordLogin(
  baseUrl: string,
  user: string,
  password: Secret,
  timeoutMs = 10000,
  checkAddress?: AddressCheck,
): Promise<{ accessToken: Secret; userId: string; deviceId: string }> {
  const { json } = await fetchJson(`${baseUrl}/_matrix/client/v3/login`, {
    method: 'POST',
    timeoutMs,
    checkAddress,
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user },
      password: password.reveal(),
      initial_device_display_name: 'mx-voiptest (temporary)',
    },
  });
  const j = json as { access_token?: unknown; user_id?: unknown; device_id?: unknown };
  if (typeof j?.access_token !== 'string') throw new HttpError('login answered without an access token', 'bad-json');
  return { accessToken: new Secret(j.access_token), userId: String(j.user_id ?? ''), deviceId: String(j.device_id ?? '') };
}

export async function logout(baseUrl: string, accessToken: Secret, timeoutMs = 5000, checkAddress?: AddressCheck): Promise<void> {
  try {
    await fetchJson(`${baseUrl}/_matrix/client/v3/logout`, {
      method: 'POST',
      timeoutMs,
      checkAddress,
      body: {},
      headers: { authorization: `Bearer ${accessToken.reveal()}` },
    });
  } catch {
    // Best effort: the temporary device stays if the server is gone.
  }
}

export async function fetchTurnServer(baseUrl: string, accessToken: Secret, timeoutMs = 10000, checkAddress?: AddressCheck): Promise<TurnServerOutcome> {
  let json: unknown;
  try {
    ({ json } = await fetchJson(`${baseUrl}/_matrix/client/v3/voip/turnServer`, {
      timeoutMs,
      checkAddress,
      headers: { authorization: `Bearer ${accessToken.reveal()}` },
    }));
  } catch (e) {
    if (e instanceof HttpError) {
      if (e.kind === 'refused') throw e; // the guard's verdict, not the homeserver's answer
      if (e.status === 429) return { kind: 'rate-limited', retryAfterMs: e.retryAfterMs, detail: e.message };
      if (e.kind === 'http' && e.status !== undefined) return { kind: 'http-error', status: e.status, errcode: e.errcode, detail: e.message };
      return { kind: 'unreachable', detail: e.message };
    }
    return { kind: 'unreachable', detail: (e as Error).message };
  }
  return classifyTurnServerAnswer(json, baseUrl);
}

/** Judge a /voip/turnServer body (also used for JSON pasted by a user in the browser helper). */
export function classifyTurnServerAnswer(json: unknown, homeserver?: string): TurnServerOutcome {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { kind: 'malformed', detail: 'the answer is not a JSON object' };
  const j = json as Record<string, unknown>;
  if (Object.keys(j).length === 0) {
    return { kind: 'empty', detail: 'the homeserver answered {} (TURN not configured, or only stun: URIs listed)' };
  }
  const uris = Array.isArray(j.uris) ? j.uris.filter((u): u is string => typeof u === 'string' && u.length > 0 && u.length < 512) : [];
  const username = typeof j.username === 'string' ? j.username : '';
  const password = typeof j.password === 'string' ? j.password : '';
  const ttl = typeof j.ttl === 'number' && Number.isFinite(j.ttl) ? j.ttl : null;
  const missing = [
    uris.length === 0 ? 'uris' : null,
    username === '' ? 'username' : null,
    password === '' ? 'password' : null,
    ttl === null ? 'ttl' : null,
  ].filter((x): x is string => x !== null);
  if (uris.length === 0 || username === '' || password === '') {
    return { kind: 'malformed', detail: `the answer lacks ${missing.join(', ')}` };
  }
  return {
    kind: 'ok',
    credentials: {
      uris: uris.slice(0, 32),
      username,
      password: new Secret(password),
      ttl,
      source: { kind: 'homeserver', homeserver },
    },
    raw: { uriCount: uris.length, ttl },
  };
}
