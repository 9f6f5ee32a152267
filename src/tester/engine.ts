// The engine's front door: credentials -> plan -> probes -> findings -> score -> report.
// The CLI and the bot both call runCheck; nothing here knows about Matrix.
import { normaliseHomeserverInput } from './credentials/homeserver';
import { resolveCredentials, SourceRefusedError } from './credentials/resolve';
import { checkTarget, parseCidr } from './guard';
import type { CheckOptions } from './options';
import { planTargets } from './plan';
import { lintUris } from './probes/adv';
import { RunContext, type TargetState } from './probes/context';
import { resolveUri } from './probes/dns';
import { judgeRestExpiry } from './probes/hs';
import { RUN_CHECKS } from './probes/run-level';
import { probeTarget } from './probes/target';
import { buildReport, type Report } from './report';
import { RtcContext } from './rtc/context';
import { homeserverPhase, runTransports, type RtcResult, type RtcSession } from './rtc/index';
import type { Family, Finding, QualityResult } from './types';
import { TOOL_VERSION } from './version';

/** Progress callback: probes report as they finish (the bot may show it; the CLI ignores it). */
export type ProgressListener = (event: { phase: string; detail?: string }) => void;

export class RunRefusedError extends Error {
  // Bad input or a refused target: the run could not start (CLI exit 2).
  constructor(message: string) {
    super(message);
    this.name = 'RunRefusedError';
  }
}

export async function runCheck(options: CheckOptions, onProgress: ProgressListener = () => undefined): Promise<Report> {
  const startedAt = new Date();
  const t0 = performance.now();
  for (const c of options.assumePublic) {
    try {
      parseCidr(c);
    } catch (e) {
      throw new RunRefusedError(`--assume-public ${c.slice(0, 60)}: ${(e as Error).message}`);
    }
  }
  const guard = { allowPrivate: options.allowPrivate, assumePublic: options.assumePublic };
  const families: Family[] = options.family === 'both' ? ['ipv4', 'ipv6'] : [options.family];

  onProgress({ phase: 'credentials' });
  // MatrixRTC (rtc/): discovery inside the homeserver session, the rest beside the TURN probes.
  const rtcCtx = options.credentials.kind === 'homeserver' && !options.rtc?.off ? new RtcContext(guard, options.timeoutMs, options.rtc ?? {}, options.ca, options.credentials.trusted) : null;
  let rtcSession: RtcSession | null = null;
  const onSession = rtcCtx
    ? async (s: { baseUrl: string; accessToken: import('./secret').Secret }) => {
        rtcSession = await homeserverPhase(rtcCtx, s.baseUrl, s.accessToken, wellKnownBase(options)).catch(() => null);
      }
    : undefined;
  let source;
  try {
    source = await resolveCredentials(options.credentials, guard, Math.min(options.timeoutMs, 10000), onSession);
  } catch (e) {
    if (e instanceof SourceRefusedError) throw new RunRefusedError(e.message);
    throw e;
  }
  const findings: Finding[] = [...source.findings];
  const session = rtcSession as RtcSession | null;
  const rtcRun: Promise<RtcResult | null> =
    rtcCtx && session && (session.serviceUrls.length > 0 || options.rtc?.force) ? runTransports(rtcCtx, session) : Promise.resolve(session ? { findings: session.findings, transports: [] } : null);
  const rtcOnly = Boolean(options.rtc?.only);
  let rtc: RtcResult | null = null;
  const finish = (states: TargetState[], quality: QualityResult[] = []): Report =>
    buildReport({
      rtc: rtc?.transports,
      startedAt,
      durationMs: performance.now() - t0,
      source: source.credentials?.source ?? sourceOf(options),
      targets: states.map((s) => s.result),
      findings: [...(rtcOnly ? [] : findings), ...states.flatMap((s) => s.findings), ...(rtc?.findings ?? [])],
      quality,
      toolVersion: TOOL_VERSION,
      families,
    });
  const creds = source.credentials;
  if (!creds || rtcOnly) {
    rtc = await rtcRun;
    return finish([]);
  }
  if (creds.uris.length === 0) throw new RunRefusedError('no URI to test');
  findings.push(judgeRestExpiry(creds));

  const lint = lintUris(creds.uris);
  findings.push(...lint.findings);
  onProgress({ phase: 'dns', detail: `${lint.uris.length} URI(s)` });
  const resolved = await Promise.all(lint.uris.map((u) => resolveUri(u, families, options.lookup)));
  for (const r of resolved) if (r.finding) findings.push(r.finding);
  const targets = planTargets(resolved, families);
  const refused = targets.map((t) => ({ t, v: checkTarget(t.address, guard) })).filter((x) => !x.v.allowed);
  if (refused.length > 0) {
    throw new RunRefusedError(
      refused
        .map((x) => `${x.t.uri.raw}: ${x.v.allowed ? '' : x.v.reason}`)
        .slice(0, 5)
        .join('; '),
    );
  }

  const ctx = new RunContext(options, creds);
  onProgress({ phase: 'probes', detail: `${targets.length} target(s)` });
  const states = await Promise.all(
    targets.map(async (t) => {
      const s = await probeTarget(ctx, t);
      onProgress({ phase: 'target-done', detail: `${t.uri.raw} ${t.family}` });
      return s;
    }),
  );
  for (const c of RUN_CHECKS) findings.push(...(await c(ctx, states, resolved)));
  rtc = await rtcRun;
  for (const r of resolved) for (const s of states) if (s.target.uri === r.uri) s.result.timingsMs.dns = r.dnsMs;
  onProgress({ phase: 'done' });
  return finish(states, states.flatMap((s) => (s.quality ? [s.quality] : [])));
}

/** Where clients read .well-known: the origin of what the user typed (a server name means https://name). */
function wellKnownBase(options: CheckOptions): string | undefined {
  if (options.credentials.kind !== 'homeserver') return undefined;
  try {
    return normaliseHomeserverInput(options.credentials.homeserver).baseUrl;
  } catch {
    return undefined;
  }
}

function sourceOf(options: CheckOptions): { kind: CheckOptions['credentials']['kind']; homeserver?: string } {
  return options.credentials.kind === 'homeserver' ? { kind: 'homeserver', homeserver: options.credentials.homeserver } : { kind: options.credentials.kind };
}
