// QUAL-1: what a call would get through this relay. Once every target has
// finished its other checks, the windows run together, each on an allocation
// of its own: a channel bound to a tester-owned peer socket, one paced window
// (quality/session.ts), judged against the bands (quality/judge.ts). Relayed
// data goes only to the tester's own socket. The report must not wait for
// windows in turn (issue 16 item 7): when the targets outnumber the run's
// allocation budget, one window per server, family and transport class (UDP or
// stream) is measured, or else one per server and family (UDP first); the
// other targets say which window speaks for them.
import { TurnClient, TurnError, type AllocateResult } from '../turn';
import type { Finding, QualityResult } from '../types';
import { CAUSE, judge } from '../quality/judge';
import { PROFILES, type PacingProfile } from '../quality/profile';
import { runWindow, type WindowResult } from '../quality/session';
import { defineCheck } from './check';
import type { RunUnit, TargetState } from './context';
import { allocateUnderOurLoad } from './our-load';
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

/** QUAL-1 on a live allocation of the target. `profile` overrides options.quality (tests, bench). */
export async function measureQuality(state: TargetState, client: TurnClient, a: AllocateResult, profile?: PacingProfile): Promise<Finding | null> {
  const { ctx } = state;
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

type Slot = { state: TargetState; group: string };

const transportClass = (s: TargetState) => (s.target.uri.transport === 'udp' ? 'udp' : 'stream');
const server = (s: TargetState) => `${s.target.address}`;

/**
 * Which targets get a window: all when they fit the budget; else one per
 * server, family and transport class; else one per server and family (UDP
 * first: the media transport). Every target gets the key of its window.
 */
export function planWindows(states: readonly TargetState[], budget: number): Slot[] {
  const keys: ((s: TargetState) => string)[] = [
    (s) => `${s.target.uri.raw} ${s.target.family}`,
    (s) => `${server(s)} ${s.target.family} ${transportClass(s)}`,
    (s) => `${server(s)} ${s.target.family}`,
  ];
  const ordered = [...states].sort((a, b) => Number(transportClass(a) !== 'udp') - Number(transportClass(b) !== 'udp'));
  for (const [i, key] of keys.entries()) {
    const groups = new Set(ordered.map(key));
    if (groups.size <= budget || i === keys.length - 1) return states.map((state) => ({ state, group: key(state) }));
  }
  return [];
}

async function qualityWindows(run: RunUnit): Promise<Finding[]> {
  const { ctx } = run;
  const eligible = run.states.filter((s) => s.isTurn && s.has('DATA-1', 'pass'));
  const out: Finding[] = [];
  for (const s of run.states.filter((x) => x.isTurn && !eligible.includes(x))) {
    const data1 = s.findings.find((f) => f.id === 'DATA-1');
    out.push(finding('QUAL-1', { ...s.scope, status: 'skip', summary: `Not measured: DATA-1 did not pass${data1 ? ` (${data1.status})` : ''}.`, evidence: { reason: 'data-1' } }));
  }
  if (ctx.options.quality === 'off') {
    return [...out, ...eligible.map((s) => finding('QUAL-1', { ...s.scope, status: 'skip', summary: 'Call quality not measured (--quality off).', evidence: { reason: 'off' } }))];
  }
  const slots = planWindows(eligible, ctx.allocations.size);
  const measured = new Map<string, TargetState>();
  for (const slot of slots) {
    const ordered = slots.filter((x) => x.group === slot.group).map((x) => x.state);
    measured.set(slot.group, ordered.find((x) => transportClass(x) === 'udp') ?? ordered[0]!);
  }
  const windows = await Promise.all(
    [...measured.values()].map(async (s) => {
      try {
        return await ctx.withClient(s.target, async (client) => {
          const a = await allocateUnderOurLoad(run, () => client.allocate());
          return measureQuality(s, client, a);
        });
      } catch (e) {
        if (!(e instanceof TurnError)) throw e;
        return finding('QUAL-1', { ...s.scope, status: 'skip', summary: `Not measured: the window's allocation failed (${e.kind === 'error-response' ? `error ${e.code}` : e.kind}).`, evidence: { reason: 'allocate', code: e.code ?? null } });
      }
    }),
  );
  const byTarget = new Map([...measured.values()].map((s, i) => [s, windows[i]]));
  for (const { state, group } of slots) {
    const own = byTarget.get(state);
    if (own) {
      out.push(own);
      continue;
    }
    const by = measured.get(group)!;
    const f = byTarget.get(by);
    out.push(
      finding('QUAL-1', {
        ...state.scope,
        status: 'info',
        summary: `Not measured separately: the window through ${by.target.uri.raw} (same server and family) speaks for this relay${f ? ` (${f.status})` : ''}; raise --max-allocations to measure every relay at once.`,
        evidence: { reason: 'shared-window', measuredThrough: by.target.uri.raw, family: by.target.family },
      }),
    );
  }
  return out;
}

export const QUAL_1 = defineCheck({
  id: 'QUAL-1',
  // Judged per target, run over the whole run: every window at once, after the targets' other checks.
  scope: 'run',
  needs: ['DATA-1'],
  after: ['E2E-1', 'DATA-2', 'DATA-3'],
  // Nothing else of ours allocates during the windows (they are what the report waits for).
  allocations: 'all',
  causes: Object.values(CAUSE),
  run: qualityWindows,
});
