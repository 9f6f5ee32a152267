// Turn a CredentialSpec into credentials, plus what the source answered for
// the checks that judge it (the /voip/turnServer outcome: HS-1, HS-2 in
// probes/homeserver-turn.ts). Every connection to a homeserver passes the
// target guard: the tool must not become an SSRF proxy.
import { checkTarget, type GuardOptions } from '../guard';
import type { Finding } from '../types';
import { discoverClientUrl, fetchTurnServer, logout, normaliseHomeserverInput, passwordLogin, type TurnServerOutcome } from './homeserver';
import { HttpError, type AddressCheck } from './http';
import type { Secret } from '../secret';
import { DEFAULT_REST_TTL_S, DEFAULT_REST_USER, mintRestCredentials } from './rest';
import type { CredentialSpec, TurnCredentials } from './types';
import type { Lookup } from '../probes/dns';
import type { XmppOutcome } from '../probes/xmpp-discovery';
import { resolveXmppSource, XmppSourceRefused } from './xmpp';

export class SourceRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceRefusedError';
  }
}

/**
 * The guard for homeserver HTTP, applied when each request connects, to every
 * address the name resolves to then (DNS answers cannot differ between the
 * check and the connection), IP literals included.
 */
function addressCheck(guard: GuardOptions): AddressCheck {
  return (ip) => {
    const v = checkTarget(ip, guard);
    return v.allowed ? null : v.reason;
  };
}

export interface ResolvedSource {
  credentials: TurnCredentials | null;
  /** Findings a source judges itself (none today: the checks judge what it returned). */
  findings: Finding[];
  /** The homeserver's /voip/turnServer answer, for HS-1 and HS-2. */
  homeserver?: { outcome: TurnServerOutcome; baseUrl: string };
  /** The XMPP login and XEP-0215 answer, for XMPP-1..6. */
  xmpp?: XmppOutcome;
  /** Further credential sets (XMPP services with other TURN credentials than the first set's). */
  more?: TurnCredentials[];
}

/** Called inside a homeserver source's Matrix session, before a password login is logged out (MatrixRTC needs the token). */
export type SessionHook = (s: { baseUrl: string; accessToken: Secret }) => Promise<void>;

export async function resolveCredentials(
  spec: CredentialSpec,
  guard: GuardOptions,
  timeoutMs = 10000,
  /** Extra trusted CAs (XMPP's TLS) and the lab's A/AAAA answers (XMPP's advertised hosts). */
  extra: { ca?: string[]; lookup?: Lookup } = {},
  onSession?: SessionHook,
): Promise<ResolvedSource> {
  switch (spec.kind) {
    case 'xmpp': {
      try {
        const r = await resolveXmppSource(spec, guard, { timeoutMs, ...extra });
        return { credentials: r.credentials[0] ?? null, findings: [], xmpp: r.outcome, more: r.credentials.slice(1) };
      } catch (e) {
        if (e instanceof XmppSourceRefused) throw new SourceRefusedError(e.message);
        throw e;
      }
    }
    case 'explicit':
      return {
        credentials: { uris: spec.uris, username: spec.username, password: spec.password, ttl: null, source: { kind: 'explicit' }, sharedSecret: spec.sharedSecret },
        findings: [],
      };
    case 'secret': {
      const user = spec.userId ?? DEFAULT_REST_USER;
      const ttl = spec.ttl ?? DEFAULT_REST_TTL_S;
      const minted = mintRestCredentials(spec.secret, user, ttl);
      return {
        credentials: { uris: spec.uris, username: minted.username, password: minted.password, ttl, source: { kind: 'secret' }, sharedSecret: spec.secret, restUser: user },
        findings: [],
      };
    }
    case 'shared':
      return { credentials: spec.credentials, findings: [] };
    case 'homeserver': {
      try {
        normaliseHomeserverInput(spec.homeserver); // a clear refusal for what is not a URL or server name
      } catch (e) {
        throw new SourceRefusedError((e as Error).message);
      }
      const check = spec.trusted ? undefined : addressCheck(guard);
      const baseUrl = await discoverClientUrl(spec.homeserver, Math.min(timeoutMs, 5000), check);
      let token = spec.accessToken;
      let loggedIn = false;
      let outcome: TurnServerOutcome;
      try {
        if (!token) {
          if (!spec.user || !spec.password) throw new SourceRefusedError('a homeserver source needs an access token, or a user and password');
          token = (await passwordLogin(baseUrl, spec.user, spec.password, timeoutMs, check)).accessToken;
          loggedIn = true;
        }
        outcome = await fetchTurnServer(baseUrl, token, timeoutMs, check);
        if (onSession) await onSession({ baseUrl, accessToken: token });
      } catch (e) {
        if (e instanceof SourceRefusedError) throw e;
        if (e instanceof HttpError && e.kind === 'refused') throw new SourceRefusedError(`homeserver ${e.message}`);
        const he = e as HttpError;
        outcome =
          he instanceof HttpError && he.kind === 'http' && he.status !== undefined
            ? { kind: he.status === 429 ? 'rate-limited' : 'http-error', status: he.status, errcode: he.errcode, detail: `login failed: ${he.message}`, retryAfterMs: he.retryAfterMs }
            : { kind: 'unreachable', detail: (e as Error).message };
      } finally {
        if (loggedIn && token) await logout(baseUrl, token, 5000, check);
      }
      const homeserver = { outcome, baseUrl };
      if (outcome.kind !== 'ok') return { credentials: null, findings: [], homeserver };
      return { credentials: { ...outcome.credentials, source: { kind: 'homeserver', homeserver: baseUrl }, sharedSecret: spec.sharedSecret }, findings: [], homeserver };
    }
  }
}
