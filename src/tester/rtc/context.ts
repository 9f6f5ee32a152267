// What the MatrixRTC checks of one run share: guard, deadline, the Matrix
// session's products (user, OpenID token), and the one way to make an RTC finding.
import { connect } from 'node:net';
import { checkTarget, cidrContains, classifyAddress, type GuardOptions } from '../guard';
import type { AddressCheck } from '../credentials/http';
import type { CheckId } from '../checks';
import { Deadline } from '../plan';
import { finding, type FindingInput } from '../probes/finding';
import type { Secret } from '../secret';
import type { Finding, RtcPath, TargetResult } from '../types';

/** The RTC part of the engine options (CLI --rtc, --livekit-service-url; the bot sets none and gets discovery). */
export interface RtcOptions {
  /** --rtc: run the RTC checks even when nothing is advertised (RTC-1 then fails). */
  force?: boolean;
  /** --only rtc: run only the RTC checks. */
  only?: boolean;
  /** --livekit-service-url: test this authorization service (in addition to what is advertised). */
  serviceUrl?: string;
  /** Lab use: the federation base URL for RTC-4 instead of .well-known/matrix/server discovery. */
  federationUrl?: string;
  /** RTC-7/RTC-8 with a real LiveKit participant; default true. */
  media?: boolean;
  /** Off: no RTC part at all (e.g. a bot configured for TURN only). */
  off?: boolean;
}

export interface OpenIdToken {
  accessToken: Secret;
  tokenType: string;
  matrixServerName: string;
  expiresIn: number;
}

/** One at a time (media checks: at most two participants of ours at once, whatever the number of transports). */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

/** The TURN checks of the engine on LiveKit's TURN servers (injected by the engine: rtc/ does not import it). */
export type TurnChecksOn = (servers: { urls: string[]; username: string; credential: string }[], serviceUrl: string) => Promise<{ findings: Finding[]; targets: TargetResult[] }>;

export class RtcContext {
  readonly media = new Mutex();
  turnChecks?: TurnChecksOn;
  readonly deadline: Deadline;
  readonly checkAddress: AddressCheck;
  /** For the homeserver itself: none when its URL comes from the operator's config (trusted), as for TURN. */
  readonly homeserverCheck: AddressCheck | undefined;
  constructor(
    readonly guard: GuardOptions,
    /** The run's deadline (or a new one of this many ms). */
    deadline: Deadline | number,
    readonly options: RtcOptions,
    readonly ca?: string[],
    trustedHomeserver = false,
  ) {
    this.deadline = typeof deadline === 'number' ? new Deadline(deadline) : deadline;
    this.checkAddress = (ip) => {
      const v = checkTarget(ip, guard);
      return v.allowed ? null : v.reason;
    };
    this.homeserverCheck = trustedHomeserver ? undefined : this.checkAddress;
  }
  /** May we send to this address (SFU, service, TURN, ICE candidate)? */
  allowed(ip: string): string | null {
    return this.checkAddress(ip);
  }
  cap(ms: number): number {
    return this.deadline.cap(ms);
  }
  /** Treated as public: not special, or in an --assume-public range. */
  isPublic(ip: string): boolean {
    return !classifyAddress(ip).special || (this.guard.assumePublic ?? []).some((c) => cidrContains(c, ip));
  }
  /**
   * A private (or otherwise special) address handed out by an SFU whose own address is
   * public: clients on the Internet cannot reach it, so it is named, never probed.
   */
  hiddenBehindPublic(ip: string, sfuAddress: string): boolean {
    return this.isPublic(sfuAddress) && !this.isPublic(ip);
  }
}

/** An RTC finding: the catalogue's finding plus the rtc scope fields (ARCHITECTURE.md JSON additions). */
export function rtcFinding(id: CheckId, serviceUrl: string | null, f: FindingInput & { path?: RtcPath }): Finding {
  const base = finding(id, f);
  return { ...base, scope: 'rtc', ...(serviceUrl ? { rtc: serviceUrl } : {}), ...(f.path ? { path: f.path } : {}) };
}

/** A JWT's claims for evidence (never the token itself). */
export function jwtClaims(jwt: string): Record<string, unknown> | null {
  const part = jwt.split('.')[1];
  if (!part) return null;
  try {
    const c = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    const video = (c.video ?? {}) as Record<string, unknown>;
    return {
      sub: typeof c.sub === 'string' ? c.sub.slice(0, 100) : null,
      exp: typeof c.exp === 'number' ? new Date(c.exp * 1000).toISOString() : null,
      room: typeof video.room === 'string' ? video.room.slice(0, 100) : null,
      roomJoin: video.roomJoin === true,
      roomCreate: video.roomCreate === true,
      canPublish: video.canPublish !== false,
      canSubscribe: video.canSubscribe !== false,
    };
  } catch {
    return null;
  }
}

/** A TCP connect: open, refused (nothing listens) or silent (dropped); the caller has passed the address through the guard. */
export function tcpProbe(address: string, port: number, timeoutMs: number): Promise<'open' | 'refused' | 'silent'> {
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
