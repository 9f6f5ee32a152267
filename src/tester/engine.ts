// The engine's front door: credentials -> plan -> checks -> findings -> score -> report.
// The CLI and the bot both call runCheck; nothing here knows about Matrix.
// runTurnChecks is the middle on its own: the TURN checks for one credential
// set (RTC-6 hands it LiveKit's TURN servers, XMPP a XEP-0215 answer), with an
// extra scope tag on every finding.
import type { CheckId } from './checks';
import { normaliseHomeserverInput } from './credentials/homeserver';
import { resolveCredentials, SourceRefusedError } from './credentials/resolve';
import type { TurnCredentials } from './credentials/types';
import { checkTarget, parseCidr } from './guard';
import type { CheckOptions } from './options';
import { Deadline, planTargets } from './plan';
import { lintUris } from './probes/advertised-uris';
import type { AnyCheckDef } from './probes/check';
import { RunContext, RunUnit, TargetState, UriUnit, type SourceOutcome } from './probes/context';
import { resolveUri } from './probes/dns';
import { selectChecks } from './probes/registry';
import { runChecks } from './probes/runner';
import { Secret } from './secret';
import { buildReport, type Report } from './report';
import { RtcContext } from './rtc/context';
import { homeserverPhase, runTransports, type RtcResult, type RtcSession } from './rtc/index';
import { turnImplementation, withImplementationHints } from './hints';
import type { Family, Finding, QualityResult, TargetResult } from './types';
import { TOOL_VERSION } from './version';

/** Progress callback: phases as they start (the bot may show it; the CLI ignores it). */
export type ProgressListener = (event: { phase: string; detail?: string }) => void;

export class RunRefusedError extends Error {
  // Bad input or a refused target: the run could not start (CLI exit 2).
  constructor(message: string) {
    super(message);
    this.name = 'RunRefusedError';
  }
}

export interface TurnRunInput {
  options: CheckOptions;
  creds: TurnCredentials;
  /** What the credential source returned (HS-1/HS-2 judge it). */
  source?: SourceOutcome;
  /** Extra fields on every finding of this run, e.g. { scope: 'rtc', rtc: '<livekit_service_url>' } (RTC-6). */
  tag?: Record<string, string>;
  /** Checks to run (default: the registry, filtered by options.only). */
  defs?: readonly AnyCheckDef[];
  onProgress?: ProgressListener;
  /** The overall deadline, started with the run (default: a new one of options.timeoutMs). */
  deadline?: Deadline;
}

export interface TurnRun {
  findings: Finding[];
  targets: TargetResult[];
  quality: QualityResult[];
}

function familiesOf(options: CheckOptions): Family[] {
  return options.family === 'both' ? ['ipv4', 'ipv6'] : [options.family];
}

/**
 * The TURN checks (every scope: run, URI, URI x family) for one credential
 * set. Throws RunRefusedError when a target is refused by the guard.
 */
export async function runTurnChecks(input: TurnRunInput): Promise<TurnRun> {
  const { options, creds } = input;
  const onProgress = input.onProgress ?? (() => undefined);
  const families = familiesOf(options);
  const guard = { allowPrivate: options.allowPrivate, assumePublic: options.assumePublic };
  const defs = input.defs ?? selectChecks(options.only);
  const lint = lintUris(creds.uris);
  onProgress({ phase: 'dns', detail: `${lint.uris.length} URI(s)` });
  const resolved = await Promise.all(lint.uris.map((u) => resolveUri(u, families, options.lookup)));
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
  const ctx = new RunContext(options, creds, input.deadline);
  ctx.selected = new Set<CheckId>(defs.map((d) => d.id));
  const states = targets.map((t) => new TargetState(ctx, t));
  const uris = resolved.map((r) => new UriUnit(ctx, r.uri, r, states.filter((s) => s.target.uri === r.uri)));
  const run = new RunUnit(ctx, input.source ?? {}, lint, uris, states);
  ctx.runUnit = run;
  onProgress({ phase: 'probes', detail: `${targets.length} target(s)` });
  await runChecks(defs, { run: [run], 'uri-family': states, uri: uris });
  for (const r of resolved) for (const s of states) if (s.target.uri === r.uri) s.result.timingsMs.dns = r.dnsMs;
  const findings = [...run.findings, ...uris.flatMap((u) => u.findings), ...states.flatMap((s) => s.findings)];
  return {
    findings: input.tag ? findings.map((f) => ({ ...f, tag: { ...input.tag } })) : findings,
    targets: states.map((s) => s.result),
    quality: states.flatMap((s) => (s.quality ? [s.quality] : [])),
  };
}

/** The run-scoped checks that judge the source alone, when it gave no credentials (HS-1 says why). */
async function sourceOnlyChecks(options: CheckOptions, source: SourceOutcome, kind: TurnCredentials['source'], deadline: Deadline): Promise<Finding[]> {
  const defs = selectChecks(options.only).filter((d) => d.scope === 'run' && (d.needs ?? []).every((n) => selectChecks([n])[0]?.scope === 'run'));
  const none: TurnCredentials = { uris: [], username: '', password: new Secret(''), ttl: null, source: kind };
  const ctx = new RunContext(options, none, deadline);
  const run = new RunUnit(ctx, source, { uris: [], findings: [] }, [], []);
  await runChecks(defs, { run: [run] });
  return run.findings;
}

export async function runCheck(options: CheckOptions, onProgress: ProgressListener = () => undefined): Promise<Report> {
  const startedAt = new Date();
  const t0 = performance.now();
  // One deadline for the whole run: credentials, DNS and every credential set come out of it.
  const deadline = new Deadline(options.timeoutMs);
  for (const c of options.assumePublic) {
    try {
      parseCidr(c);
    } catch (e) {
      throw new RunRefusedError(`--assume-public ${c.slice(0, 60)}: ${(e as Error).message}`);
    }
  }
  const guard = { allowPrivate: options.allowPrivate, assumePublic: options.assumePublic };

  onProgress({ phase: 'credentials' });
  // MatrixRTC (rtc/): discovery and an OpenID token inside the homeserver session, the rest beside the TURN checks.
  const rtcCtx = options.credentials.kind === 'homeserver' && !options.rtc?.off ? new RtcContext(guard, deadline, options.rtc ?? {}, options.ca, options.credentials.trusted) : null;
  let rtcSession: RtcSession | null = null;
  const onSession = rtcCtx
    ? async (s: { baseUrl: string; accessToken: Secret }) => {
        rtcSession = await homeserverPhase(rtcCtx, s.baseUrl, s.accessToken, wellKnownBase(options)).catch(() => null);
      }
    : undefined;
  let source;
  try {
    source = await resolveCredentials(options.credentials, guard, deadline.cap(10000), { ca: options.ca, lookup: options.lookup }, onSession);
  } catch (e) {
    if (e instanceof SourceRefusedError) throw new RunRefusedError(e.message);
    throw e;
  }
  const session = rtcSession as RtcSession | null;
  if (rtcCtx) rtcCtx.turnChecks = (servers, serviceUrl) => turnChecksOnLiveKit(options, servers, serviceUrl);
  const rtcRun: Promise<RtcResult | null> =
    rtcCtx && session && (session.serviceUrls.length > 0 || options.rtc?.force) ? runTransports(rtcCtx, session, options) : Promise.resolve(session ? { findings: session.findings, transports: [] } : null);
  const rtcOnly = Boolean(options.rtc?.only);
  const outcome: SourceOutcome = source.homeserver ? { homeserver: source.homeserver } : source.xmpp ? { xmpp: source.xmpp } : {};
  const finish = (r: TurnRun, rtc: RtcResult | null): Report =>
    buildReport({
      startedAt,
      durationMs: performance.now() - t0,
      source: source.credentials?.source ?? sourceOf(options),
      targets: r.targets,
      findings: implementationHints([...(rtcOnly ? [] : source.findings), ...r.findings, ...(rtc?.findings ?? [])]),
      quality: r.quality,
      toolVersion: TOOL_VERSION,
      families: familiesOf(options),
      rtc: rtc?.transports,
    });
  const none: TurnRun = { findings: [], targets: [], quality: [] };
  if (rtcOnly) return finish(none, await rtcRun);
  const creds = source.credentials;
  if (!creds) return finish({ ...none, findings: await sourceOnlyChecks(options, outcome, sourceOf(options), deadline) }, await rtcRun);
  if (creds.uris.length === 0) throw new RunRefusedError('no URI to test');
  const [r, rtc] = await Promise.all([runTurnChecks({ options, creds, source: outcome, onProgress, deadline }), rtcRun]);
  // XMPP services with other TURN credentials: their own runs, one after the other (one allocation budget), tagged.
  for (const [i, more] of (source.more ?? []).entries()) {
    const m = await runTurnChecks({ options, creds: more, tag: { scope: 'xmpp', credentials: `set ${i + 2}` }, onProgress, deadline });
    r.findings.push(...m.findings);
    r.targets.push(...m.targets);
    r.quality.push(...m.quality);
  }
  onProgress({ phase: 'done' });
  return finish(r, rtc);
}

/** RTC-6: the TURN checks on the TURN servers LiveKit's join response hands out, every finding tagged with the transport. */
async function turnChecksOnLiveKit(options: CheckOptions, servers: { urls: string[]; username: string; credential: string }[], serviceUrl: string): Promise<{ findings: Finding[]; targets: TargetResult[] }> {
  const out: { findings: Finding[]; targets: TargetResult[] } = { findings: [], targets: [] };
  // LiveKit's credentials are per participant; servers with other credentials are separate runs.
  for (const s of servers.slice(0, 2)) {
    const creds: TurnCredentials = { uris: s.urls, username: s.username, password: new Secret(s.credential), ttl: null, source: { kind: 'explicit' } };
    const turnOnly = options.only?.filter((id) => !id.startsWith('RTC-'));
    try {
      const r = await runTurnChecks({ options: { ...options, only: turnOnly && turnOnly.length > 0 ? turnOnly : undefined, quality: 'off', e2e: false }, creds, tag: { scope: 'rtc', rtc: serviceUrl } });
      out.findings.push(...r.findings.filter((f) => f.id !== 'AUTH-3').map((f) => livekitTurnFinding(f, serviceUrl)));
      out.targets.push(...r.targets);
    } catch (e) {
      if (!(e instanceof RunRefusedError)) throw e;
    }
  }
  return out;
}

/** A TURN finding about LiveKit's TURN: the rtc scope, and LiveKit's settings in the hint where the table has them. */
function livekitTurnFinding(f: Finding, serviceUrl: string): Finding {
  return { ...withImplementationHints([f], 'livekit')[0]!, scope: 'rtc', rtc: serviceUrl };
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

function sourceOf(options: CheckOptions): TurnCredentials['source'] {
  const c = options.credentials;
  if (c.kind === 'xmpp') return { kind: 'xmpp', xmpp: c.jid.slice(c.jid.indexOf('@') + 1).split('/')[0].toLowerCase() };
  return c.kind === 'homeserver' ? { kind: 'homeserver', homeserver: c.homeserver } : { kind: c.kind };
}

/**
 * Hints for the TURN server that answered: when SEC-1 saw only ejabberd's
 * built-in TURN (SOFTWARE), the TURN checks' hints name its settings, not
 * coturn's. XMPP-* hints are chosen by the XMPP server's name (their checks).
 */
function implementationHints(findings: Finding[]): Finding[] {
  const software = findings.filter((f) => f.id === 'SEC-1').flatMap((f) => ((f.evidence.disclosed as { software?: unknown }[] | undefined) ?? []).map((d) => String(d.software ?? '')));
  const impls = new Set(software.map(turnImplementation));
  const impl = impls.size === 1 ? [...impls][0] : undefined;
  if (!impl) return findings;
  const turn = withImplementationHints(findings, impl);
  return findings.map((f, i) => (f.id.startsWith('XMPP-') || f.scope === 'rtc' ? f : turn[i]));
}
