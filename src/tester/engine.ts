// The engine's front door: credentials -> plan -> checks -> findings -> score -> report.
// The CLI and the bot both call runCheck; nothing here knows about Matrix.
// runTurnChecks is the middle on its own: the TURN checks for one credential
// set (RTC-6 hands it LiveKit's TURN servers, XMPP a XEP-0215 answer), with an
// extra scope tag on every finding.
import type { CheckId } from './checks';
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
  let source;
  try {
    source = await resolveCredentials(options.credentials, guard, deadline.cap(10000), { ca: options.ca, lookup: options.lookup });
  } catch (e) {
    if (e instanceof SourceRefusedError) throw new RunRefusedError(e.message);
    throw e;
  }
  const outcome: SourceOutcome = source.homeserver ? { homeserver: source.homeserver } : source.xmpp ? { xmpp: source.xmpp } : {};
  const finish = (r: TurnRun): Report =>
    buildReport({
      startedAt,
      durationMs: performance.now() - t0,
      source: source.credentials?.source ?? sourceOf(options),
      targets: r.targets,
      findings: implementationHints([...source.findings, ...r.findings]),
      quality: r.quality,
      toolVersion: TOOL_VERSION,
      families: familiesOf(options),
    });
  const creds = source.credentials;
  if (!creds) return finish({ findings: await sourceOnlyChecks(options, outcome, sourceOf(options), deadline), targets: [], quality: [] });
  if (creds.uris.length === 0) throw new RunRefusedError('no URI to test');
  const r = await runTurnChecks({ options, creds, source: outcome, onProgress, deadline });
  // XMPP services with other TURN credentials: their own runs, one after the other (one allocation budget), tagged.
  for (const [i, more] of (source.more ?? []).entries()) {
    const m = await runTurnChecks({ options, creds: more, tag: { scope: 'xmpp', credentials: `set ${i + 2}` }, onProgress, deadline });
    r.findings.push(...m.findings);
    r.targets.push(...m.targets);
    r.quality.push(...m.quality);
  }
  onProgress({ phase: 'done' });
  return finish(r);
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
  return findings.map((f, i) => (f.id.startsWith('XMPP-') ? f : turn[i]));
}
