// Runs the MatrixRTC scenarios on one shared lab: one network namespace for
// LiveKit (restarted per scenario with its config, firewall flushed between),
// one default Synapse (scenarios with a Synapse variant get their own), and
// the lk-jwt-service stand-in on the advertised port. One scenario at a time:
// LiveKit's ports in the namespace are fixed. Judged on the rtc grade and the
// expected findings.
import { randomBytes } from 'node:crypto';
import { runCheck } from '../../../src/tester/engine';
import { DEFAULT_CHECK_OPTIONS } from '../../../src/tester/options';
import type { Report } from '../../../src/tester/report';
import { createLab, type NetLab } from '../../../scripts/lab/netns';
import { startLiveKit, type LiveKitLab } from '../../../scripts/lab/livekit';
import { startNoCorsFront } from '../../../scripts/lab/matrixrtc';
import { findFreeTcpPort } from '../../../scripts/lab/ports';
import { startRtcAuthStandin, type StandinLab } from '../../../scripts/lab/rtc-auth-standin';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../../scripts/lab/synapse';
import type { RtcScenario } from './cases';

export interface RtcOutcome {
  scenario: RtcScenario;
  report: Report | null;
  wallMs: number;
  error: string | null;
  wrong: string[];
}

interface Hs {
  synapse: SynapseLab;
  user: SynapseUser;
  front: { url: string; stop(): Promise<void> } | null;
}

const key = (s: RtcScenario) => JSON.stringify(s.synapse ?? {});

/** Compare a report with the scenario's expectation: the list of what is wrong (empty = diagnosed right). */
export function judgeRtc(s: RtcScenario, r: Report, wallMs: number): string[] {
  const wrong: string[] = [];
  const grade = r.grade.rtc ?? 'absent';
  if (grade !== s.expect.grade) wrong.push(`grade: expected ${s.expect.grade}, got ${grade}`);
  for (const m of s.expect.findings) {
    const statuses = Array.isArray(m.status) ? m.status : [m.status];
    const hit = r.checks.find((c) => c.id === m.id && (m.path === undefined || c.path === m.path) && statuses.includes(c.status) && (m.cause === undefined || c.cause === m.cause));
    if (!hit) {
      const got = r.checks.filter((c) => c.id === m.id && (m.path === undefined || c.path === m.path)).map((c) => `${c.status}${c.cause ? `/${c.cause}` : ''}`);
      wrong.push(`${m.id}${m.path ? ` ${m.path}` : ''}: expected ${statuses.join('|')}${m.cause ? `/${m.cause}` : ''}, got ${got.join(', ') || 'nothing'}`);
    }
  }
  if (s.expect.maxDurationMs && wallMs > s.expect.maxDurationMs) wrong.push(`took ${Math.round(wallMs)} ms (limit ${s.expect.maxDurationMs})`);
  return wrong;
}

export async function runRtcScenarios(scenarios: readonly RtcScenario[], onDone?: (o: RtcOutcome) => void): Promise<RtcOutcome[]> {
  const servicePort = await findFreeTcpPort('127.0.0.1');
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  const transport = [{ type: 'livekit', livekit_service_url: serviceUrl }];
  const net: NetLab = await createLab({ hosts: ['sfu'], ipv6: false });
  const homeservers = new Map<string, Promise<Hs>>();
  const hsFor = (s: RtcScenario): Promise<Hs> => {
    const k = key(s);
    if (!homeservers.has(k)) {
      const v = s.synapse ?? {};
      homeservers.set(
        k,
        (async () => {
          const synapse = await startSynapse({
            msc4143: v.msc4143 ?? true,
            rtcTransports: v.endpoint === false ? undefined : transport,
            extraWellKnownClient: v.wellKnown === false ? undefined : { 'org.matrix.msc4143.rtc_foci': transport },
            federationListener: !v.noFederation,
          });
          const user = await synapse.registerUser(`u${randomBytes(3).toString('hex')}`, 'pw');
          return { synapse, user, front: v.noCors ? await startNoCorsFront(synapse.url) : null };
        })(),
      );
    }
    return homeservers.get(k)!;
  };
  // Scenarios run one by one; the next one's Synapse starts while the current one runs (2 cores in CI).
  const outcomes: RtcOutcome[] = [];
  let livekit: LiveKitLab | null = null;
  let standin: StandinLab | null = null;
  try {
    for (const [i, s] of scenarios.entries()) {
      const t0 = performance.now();
      const next = scenarios[i + 1];
      let report: Report | null = null;
      let error: string | null = null;
      try {
        await livekit?.stop();
        await standin?.stop();
        livekit = standin = null;
        await net.flush('sfu');
        const hs = await hsFor(s);
        if (next) void hsFor(next).catch(() => undefined);
        livekit = await startLiveKit({ netns: { lab: net, host: 'sfu' }, turn: s.livekit?.turn, turnTlsPort: s.livekit?.turnTlsPort, nodeIp: s.livekit?.nodeIp, autoCreate: s.livekit?.autoCreate });
        if (!s.standin?.down) {
          standin = await startRtcAuthStandin({
            port: servicePort,
            livekitUrl: livekit.wsUrl,
            key: livekit.apiKey,
            secret: s.standin?.wrongSecret ? randomBytes(24).toString('base64url') : livekit.apiSecret.reveal(),
            fullAccessHomeservers: s.standin?.fullAccess,
            federation: { [hs.synapse.serverName]: hs.synapse.federationUrl ?? hs.synapse.url },
            legacy: s.standin?.legacy,
          });
        }
        // A firewall in front of the SFU: it drops what comes from outside (the tester's link), not the SFU's own traffic (its TURN relaying to itself).
        for (const rule of s.firewall ?? []) await net.drop('sfu', { ...rule, peer: net.root!.v4 });
        const t1 = performance.now();
        report = await runCheck({
          ...DEFAULT_CHECK_OPTIONS,
          credentials: { kind: 'homeserver', homeserver: hs.front?.url ?? hs.synapse.url, accessToken: hs.user.accessToken },
          allowPrivate: true,
          assumePublic: [net.subnet.v4],
          quality: 'off',
          timeoutMs: 20_000,
          ca: livekit.turnCertPem ? [livekit.turnCertPem] : undefined,
          rtc: { only: true, force: true, federationUrl: hs.synapse.federationUrl ?? hs.synapse.url },
        });
        const wallMs = performance.now() - t1;
        const o: RtcOutcome = { scenario: s, report, wallMs, error: null, wrong: judgeRtc(s, report, wallMs) };
        outcomes.push(o);
        onDone?.(o);
        continue;
      } catch (e) {
        error = (e as Error).message;
      }
      const o: RtcOutcome = { scenario: s, report, wallMs: performance.now() - t0, error, wrong: [] };
      outcomes.push(o);
      onDone?.(o);
    }
  } finally {
    await livekit?.stop().catch(() => undefined);
    await standin?.stop().catch(() => undefined);
    for (const p of homeservers.values()) {
      const hs = await p.catch(() => null);
      await hs?.front?.stop();
      await hs?.synapse.stop();
    }
    await net.destroy();
  }
  return outcomes;
}

/** The accuracy table (one line per scenario). */
export function rtcTable(outcomes: readonly RtcOutcome[]): string {
  const lines = outcomes.map((o) => {
    const verdict = o.error ? 'ERROR' : o.wrong.length ? 'WRONG' : 'ok';
    return `${verdict.padEnd(6)} ${o.scenario.name.padEnd(24)} grade ${String(o.report?.grade.rtc ?? '-').padEnd(9)} ${Math.round(o.wallMs).toString().padStart(5)} ms  ${o.error ?? o.wrong.join('; ')}`;
  });
  const ok = outcomes.filter((o) => !o.error && o.wrong.length === 0).length;
  return [...lines, `${ok}/${outcomes.length} MatrixRTC scenarios diagnosed right`].join('\n');
}
