// RTC-1..RTC-8 as registry definitions (probes/check.ts shape), on two units
// this part adds: 'rtc-session' (once per run: what the Matrix session found)
// and 'rtc' (one advertised LiveKit transport). The unit objects carry what a
// check hands the next (token, join response, usable TURN, working paths).
import { HttpError } from '../credentials/http';
import { defineCheck } from '../probes/check';
import { Unit, type RunContext } from '../probes/context';
import type { Finding, Grade, RtcPath } from '../types';
import { rtcFinding, type RtcContext } from './context';
import { checkOpenIdFederation } from './federation';
import { checkCall, checkPaths } from './media';
import { checkService, judgeToken, requestToken, type LiveKitGrant } from './service';
import { checkSignalling, type JoinInfo } from './signalling';
import { checkLiveKitTurn, type LiveKitIceServer } from './turn';
import type { RtcSession } from './index';

declare module '../probes/check' {
  interface ScopeUnits {
    'rtc-session': RtcSessionUnit;
    rtc: RtcTransportUnit;
  }
}

/** The run's MatrixRTC session: discovery (RTC-1) and the OpenID lookup (RTC-4). */
export class RtcSessionUnit extends Unit {
  constructor(
    ctx: RunContext,
    readonly rtc: RtcContext,
    readonly session: RtcSession,
  ) {
    super(ctx);
  }
  get scope(): { uri: null; family: null } {
    return { uri: null, family: null };
  }
  override add(f: Finding): Finding {
    return super.add({ ...f, scope: 'rtc' });
  }
}

/** One LiveKit transport (a livekit_service_url) and what its checks found so far. */
export class RtcTransportUnit extends Unit {
  up = false;
  grant: LiveKitGrant | null = null;
  join: JoinInfo | null = null;
  usableTurn: LiveKitIceServer[] = [];
  /** LiveKit hands out TURN a client could reach (whether or not it relays). */
  turnAdvertised = false;
  turns443 = false;
  paths: Record<RtcPath, boolean> = { udp: false, tcp: false, relay: false };
  readonly roomId: string;
  constructor(
    ctx: RunContext,
    readonly rtc: RtcContext,
    readonly session: RtcSessionUnit,
    readonly serviceUrl: string,
    roomId: string,
  ) {
    super(ctx);
    this.roomId = roomId;
  }
  get scope(): { uri: null; family: null } {
    return { uri: null, family: null };
  }
  /** Every finding of this unit (the runner's skips too) carries the rtc scope. */
  override add(f: Finding): Finding {
    return super.add({ ...f, scope: 'rtc', rtc: this.serviceUrl });
  }
  member(memberId: string) {
    const s = this.session.session;
    return { userId: s.userId, deviceId: s.deviceId, memberId, roomId: this.roomId };
  }
  /** A further LiveKit token (one identity per probe participant). */
  tokens = async (memberId: string) => {
    const o = await requestToken(this.rtc, this.serviceUrl, this.session.session.openid!, this.member(memberId));
    return o.ok ? { sfuUrl: o.grant.sfuUrl, jwt: o.grant.jwt.reveal() } : null;
  };
  /** The MatrixRTC grade of this transport (CHECKS.md). */
  get grade(): Grade {
    if (!this.grant || !this.join) return 'Fail';
    const p = this.paths;
    if (!(p.udp || p.tcp || p.relay)) return 'Poor';
    if (!(p.udp && (p.tcp || p.relay))) return 'Good';
    return this.turns443 ? 'Excellent' : 'Great';
  }
}

/** A refused target (guard) is named as a skip, never probed; anything else is the runner's to catch. */
async function guarded(unit: RtcTransportUnit, id: Finding['id'], fn: () => Promise<Finding | Finding[] | null>): Promise<Finding | Finding[] | null> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof HttpError && e.kind === 'refused') return rtcFinding(id, unit.serviceUrl, { status: 'skip', summary: `not tested: ${e.message}`, evidence: { reason: e.message } });
    throw e;
  }
}

export const RTC_1 = defineCheck({
  id: 'RTC-1',
  scope: 'rtc-session',
  causes: ['none'],
  run: async (u) => u.session.findings.filter((f) => f.id === 'RTC-1'),
});

export const RTC_4 = defineCheck({
  id: 'RTC-4',
  scope: 'rtc-session',
  applies: (u) => u.session.serviceUrls.length > 0,
  run: async (u) =>
    u.session.openid
      ? checkOpenIdFederation(u.rtc, u.session.openid, u.session.userId)
      : rtcFinding('RTC-4', null, { status: 'skip', summary: `not run: no OpenID token (${u.session.openidError ?? 'no user'})`, evidence: {} }),
});

export const RTC_2 = defineCheck({
  id: 'RTC-2',
  scope: 'rtc',
  causes: ['refused', 'filtered', 'tls', 'http-error'],
  run: (u) =>
    guarded(u, 'RTC-2', async () => {
      const r = await checkService(u.rtc, u.serviceUrl);
      u.up = r.up;
      return r.finding;
    }),
});

export const RTC_3 = defineCheck({
  id: 'RTC-3',
  scope: 'rtc',
  needs: ['RTC-2'],
  after: ['RTC-4'],
  causes: ['unauthorized', 'room-create', 'bad-request', 'unreachable', 'openid-failed'],
  run: (u) =>
    guarded(u, 'RTC-3', async () => {
      const s = u.session.session;
      const rtc4 = u.session.findings.find((f) => f.id === 'RTC-4') ?? null;
      const first = s.openid ? await requestToken(u.rtc, u.serviceUrl, s.openid, u.member('mxv-probe')) : null;
      if (first?.ok) u.grant = first.grant;
      return judgeToken(u.serviceUrl, first ?? { ok: false, status: null, errcode: null, endpoint: '/get_token', message: 'no OpenID token' }, s.openid ? null : (s.openidError ?? 'no OpenID token'), rtc4);
    }),
});

export const RTC_5 = defineCheck({
  id: 'RTC-5',
  scope: 'rtc',
  needs: ['RTC-3'],
  run: (u) =>
    guarded(u, 'RTC-5', async () => {
      const sig = await checkSignalling(u.rtc, u.serviceUrl, u.grant!);
      u.join = sig.join;
      return sig.finding;
    }),
});

export const RTC_6 = defineCheck({
  id: 'RTC-6',
  scope: 'rtc',
  needs: ['RTC-5'],
  blocks: () => false,
  run: (u) =>
    guarded(u, 'RTC-6', async () => {
      const t = await checkLiveKitTurn(u.rtc, u.serviceUrl, u.join!.iceServers, u.join!.sfuAddress);
      // The TURN checks proper (NET-1, TLS-1, AUTH-2, ALLOC-1, DATA-1, ACL-*) on LiveKit's TURN, findings in the rtc scope.
      const deep = u.rtc.turnChecks && t.usable.length > 0 ? await u.rtc.turnChecks(t.usable, u.serviceUrl) : null;
      // Excellent needs TURN over TLS on 443 that relays (DATA-1), not just a port that listens.
      u.turns443 = deep ? deep.targets.some((x) => x.scheme === 'turns' && x.port === 443 && x.turnWorks) : t.turns443Works;
      // A relay-only participant only gets the TURN URLs that relayed data (no 5 s wait on a dead one).
      const relays = new Set(deep ? deep.targets.filter((x) => x.turnWorks).map((x) => x.uri) : t.usable.flatMap((x) => x.urls));
      u.usableTurn = t.usable.map((x) => ({ ...x, urls: x.urls.filter((url) => relays.has(url)) })).filter((x) => x.urls.length > 0);
      u.turnAdvertised = t.usable.length > 0;
      return [...t.findings, ...(deep?.findings ?? [])];
    }),
});

export const RTC_7 = defineCheck({
  id: 'RTC-7',
  scope: 'rtc',
  needs: ['RTC-5'],
  after: ['RTC-6'],
  blocks: () => false,
  causes: ['udp-blocked', 'no-connection', 'private-candidates', 'relay-failed'],
  applies: (u) => u.rtc.options.media !== false,
  run: (u) =>
    u.rtc.media.run(async () => {
      const r = await checkPaths(u.rtc, u.serviceUrl, u.tokens, u.join!, u.usableTurn, u.turnAdvertised);
      u.paths = r.works;
      return r.findings;
    }),
});

export const RTC_8 = defineCheck({
  id: 'RTC-8',
  scope: 'rtc',
  needs: ['RTC-7'],
  causes: ['no-media'],
  applies: (u) => u.rtc.options.media !== false,
  run: (u) =>
    u.paths.udp || u.paths.tcp || u.paths.relay
      ? u.rtc.media.run(() => checkCall(u.rtc, u.serviceUrl, u.tokens, u.usableTurn))
      : Promise.resolve(rtcFinding('RTC-8', u.serviceUrl, { status: 'skip', summary: 'not run: no media path (RTC-7)', evidence: {} })),
});
