// QUAL-1: what a call would get through this relay. Runs on the target's live
// allocation after DATA-1 passed: binds a channel to a tester-owned peer
// socket and runs one paced window (quality/session.ts), then judges the
// numbers against the bands (quality/judge.ts). Relayed data goes only to the
// tester's own socket.
import { TurnError } from '../turn';
import type { Finding, QualityResult } from '../types';
import { CAUSE, judge } from '../quality/judge';
import { PROFILES, type PacingProfile } from '../quality/profile';
import { runWindow, type WindowResult } from '../quality/session';
import { defineCheck } from './check';
import type { TargetState } from './context';
import { finding } from './finding';
import { PeerSocket } from './relayed-data';

/** Channel for the quality window (any 0x4000-0x7FFF; no other probe binds one on this allocation). */
const QUALITY_CHANNEL = 0x4a11;

export function qualityResult(uri: string, family: QualityResult['family'], transport: string, w: WindowResult): QualityResult {
  return {
    uri,
    family,
    rttMs: w.rttMs,
    jitterMs: Math.max(w.up.jitterMs, w.down.jitterMs),
    lossPct: { up: w.up.lossPct, down: w.down.lossPct },
    goodputKbps: Math.min(w.up.goodputKbps, w.down.goodputKbps),
    profile: w.profile,
    transport,
    oneWayMs: { up: w.up.oneWayMs, down: w.down.oneWayMs },
    jitterByDirectionMs: { up: w.up.jitterMs, down: w.down.jitterMs },
    reorderedPct: { up: w.up.reorderedPct, down: w.down.reorderedPct },
    goodputByDirectionKbps: { up: w.up.goodputKbps, down: w.down.goodputKbps },
    packets: { sent: w.sent, echoed: w.echoed, back: w.down.received },
    windowMs: w.windowMs,
  };
}

/** QUAL-1 on the target's live allocation. `profile` overrides options.quality (tests, bench). */
export async function measureQuality(state: TargetState, profile?: PacingProfile): Promise<Finding | null> {
  const { ctx, client, allocation: a } = state;
  if (!client || !a) return null;
  const scope = state.scope;
  const name = ctx.options.quality;
  if (!profile && name === 'off') {
    return finding('QUAL-1', { ...scope, status: 'skip', summary: 'Call quality not measured (--quality off).', evidence: { reason: 'off' } });
  }
  const data1 = state.findings.find((f) => f.id === 'DATA-1');
  if (data1 && data1.status !== 'pass') {
    return finding('QUAL-1', { ...scope, status: 'skip', summary: `Not measured: DATA-1 did not pass (${data1.status}).`, evidence: { reason: 'data-1' } });
  }
  const relayed = a.relayed;
  if (!ctx.maySendTo(relayed.address)) {
    return finding('QUAL-1', { ...scope, status: 'skip', summary: `Not sending data to the relayed address ${relayed.address} (not public; --allow-private permits it in a lab).`, evidence: { reason: 'guard' } });
  }
  const prof = profile ?? PROFILES[name as Exclude<typeof name, 'off'>];
  // The window must end before the run's deadline, drain included.
  if (ctx.deadline.remaining() < prof.durationMs + 1500) {
    return finding('QUAL-1', { ...scope, status: 'skip', summary: `Not measured: the run deadline leaves no room for a ${Math.round(prof.durationMs / 1000)} s window (raise --timeout-ms).`, evidence: { reason: 'deadline' } });
  }
  const ours = await ctx.ownAddressFor(relayed, a.mapped);
  if (!ours) {
    return finding('QUAL-1', { ...scope, status: 'skip', summary: 'Not measured: no address of the tester in the relay family.', evidence: { reason: 'no-address' } });
  }
  const peer = await PeerSocket.open(relayed.family);
  try {
    try {
      // ChannelBind also installs the permission: the cheap framing real media uses.
      await client.channelBind(QUALITY_CHANNEL, { address: ours, port: peer.port });
    } catch (e) {
      if (!(e instanceof TurnError)) throw e;
      return finding('QUAL-1', {
        ...scope,
        status: 'skip',
        summary: `Not measured: ChannelBind failed (${e.kind === 'error-response' ? `error ${e.code}` : e.kind}).`,
        evidence: { reason: 'channel-bind', code: e.code ?? null },
      });
    }
    const w = await runWindow({ client, channel: QUALITY_CHANNEL, relayed, peer: peer.socket }, prof, { maxDrainMs: 1000 });
    const v = judge(w);
    const result = qualityResult(scope.uri, scope.family, state.target.uri.transport, w);
    state.quality = result;
    return finding('QUAL-1', {
        ...scope,
        status: v.status,
        severity: v.severity,
        cause: v.cause,
        summary: v.summary,
        evidence: { profile: w.profile, bands: v.bands, values: v.values, rttMs: w.rttMs, up: w.up, down: w.down, sent: w.sent, windowMs: w.windowMs, aborted: w.aborted },
      });
  } finally {
    peer.close();
  }
}

export const QUAL_1 = defineCheck({
  id: 'QUAL-1',
  scope: 'uri-family',
  needs: ['DATA-1'],
  allocations: 1,
  shared: true,
  causes: Object.values(CAUSE),
  applies: (s) => s.isTurn,
  run: (s) => measureQuality(s),
});
