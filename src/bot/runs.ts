// The run service: one engine run (⏳ on the command, the engine, metrics),
// and what follows any run, whoever started it (command, schedule, browser):
// history, the "since last time" line ("unchanged since #1, 02:55 UTC" or the
// changes), the report (a reply to the command, details in a thread), the
// result reaction. Also the stored JSON of a run on request.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { BotConfig } from '../config';
import type { Logger } from '../ops/log';
import type { VoiptestMetrics } from '../ops/metrics';
import { scrubText as scrub } from '../ops/redact';
import { describeDiff, diffRuns, StoreError, targetKey, type HistoryStore, type Trigger } from '../store';
import type { CredentialSpec } from '../tester/credentials/types';
import { RunRefusedError } from '../tester/engine';
import type { CheckOptions } from '../tester/options';
import { dnsLookup, type Lookup } from '../tester/probes/dns';
import type { Report } from '../tester/report';
import type { SourceKind } from '../tester/types';
import { formatTime } from '../render/format';
import type { BotIo } from './io';
import { asReply, inThread, notice, reportMessages, resultReaction } from './message';
import { displayReport, safeText } from '../ops/defang';
import { answerTxnId, type CommandJournal } from './journal';
import { describeError } from './send';
import { Throttle } from './throttle';

/** Uploaded JSON files kept for re-sending (a stored run never changes). */
const MAX_CACHED_UPLOADS = 200;

/** "02:55 UTC" when the previous run was the same day as this one, else "2026-01-01 02:55 UTC". */
export function sinceTime(prevIso: string, nowIso: string): string {
  const t = formatTime(prevIso);
  return prevIso.slice(0, 10) === nowIso.slice(0, 10) ? t.slice(11) : t;
}

/** engine.hosts (lab use): listed names answer from the list, with no DNS query; others use DNS. */
export function hostsLookup(lines: readonly string[]): Lookup {
  const table = new Map<string, string[]>();
  for (const l of lines) {
    const [name, ip] = l.split('=') as [string, string];
    table.set(name.toLowerCase(), [...(table.get(name.toLowerCase()) ?? []), ip]);
  }
  return async (host, rr) => {
    const ips = table.get(host.toLowerCase());
    if (!ips) return dnsLookup(host, rr);
    const addrs = ips.filter((ip) => isIP(ip) === (rr === 'A' ? 4 : 6));
    return addrs.length ? { addrs } : { addrs: [], code: 'ENODATA' };
  };
}

/** Engine options from the config (CA files read as PEM text). */
export function engineOptionsOf(e: BotConfig['engine']): Omit<CheckOptions, 'credentials'> {
  return {
    ...(e.hosts.length ? { lookup: hostsLookup(e.hosts) } : {}),
    family: e.family as CheckOptions['family'], allowPrivate: e.allowPrivate, assumePublic: e.assumePublic,
    ca: e.ca.length ? e.ca.map((f) => readFileSync(f, 'utf8')) : undefined,
    quality: e.quality as CheckOptions['quality'], timeoutMs: e.timeoutMs, e2e: e.e2e,
    ...(e.rtcFederationUrl ? { rtc: { federationUrl: e.rtcFederationUrl } } : {}),
  };
}

export interface RunRequest {
  trigger: Trigger;
  roomIds: string[];
  requester: string | null;
  spec: CredentialSpec;
  /** The command event to react to (⏳ while running, then the result). */
  reactTo?: string;
  mentionOnRegression?: boolean;
}

export interface Finished {
  trigger: Trigger;
  roomIds: string[];
  requester: string | null;
  key: string;
  sourceKind: SourceKind;
  report: Report | null;
  failure: string | null;
  durationMs: number;
  /** The command to react to with the result (and the ⏳ to take back). */
  reactTo?: { roomId: string; eventId: string; hourglass: string | null };
  mentionOnRegression?: boolean;
  /** Targets from a user (browser helper): no per-target metrics (their label values are unbounded). */
  userTargets?: boolean;
}

export interface RunServiceDeps {
  config: BotConfig;
  io: BotIo;
  engine: (o: CheckOptions) => Promise<Report>;
  metrics: VoiptestMetrics;
  store: HistoryStore | null;
  storeProblem: string | null;
  log: Logger;
  /** In-flight commands survive a crash here. */
  journal?: CommandJournal;
}

export class RunService {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly jsonCooldown: Throttle;
  private readonly uploaded = new Map<number, { url: string; size: number }>();

  constructor(private readonly d: RunServiceDeps) {
    this.jsonCooldown = new Throttle(d.config.limits.jsonCooldownSeconds * 1000);
  }

  /** Runs started and not yet finished (what stop() waits for). */
  pending(): Promise<void>[] {
    return [...this.inFlight];
  }

  /** Run the engine and report; tracked until it settles. */
  run(r: RunRequest): Promise<void> {
    if (r.reactTo && r.requester) this.d.journal?.begin({ eventId: r.reactTo, roomId: r.roomIds[0]!, sender: r.requester, at: new Date().toISOString() });
    const job = this.execute(r);
    const q = job.catch(() => undefined).finally(() => this.inFlight.delete(q));
    this.inFlight.add(q);
    return job;
  }

  private async execute(r: RunRequest): Promise<void> {
    const { io, config, metrics, log } = this.d;
    const room = r.roomIds[0]!;
    // The engine starts while ⏳ is on its way: its round trip is not taken from the run's deadline.
    const reacting = r.reactTo ? io.react(room, r.reactTo, '⏳') : Promise.resolve(null);
    const options: CheckOptions = { ...engineOptionsOf(config.engine), credentials: r.spec };
    const t0 = Date.now();
    const done = metrics.runStarted();
    let report: Report | null = null;
    let failure: string | null = null;
    try {
      report = await this.d.engine(options);
    } catch (err) {
      failure = err instanceof RunRefusedError ? `I cannot test that: ${err.message}` : `The test could not run: ${describeError(err)}`;
      failure = scrub(failure);
      log.warn('run failed', { trigger: r.trigger, error: failure });
    } finally {
      done();
    }
    const hourglass = await reacting;
    await this.finish({
      trigger: r.trigger, roomIds: r.roomIds, requester: r.requester, key: targetKey(r.spec), sourceKind: r.spec.kind,
      report, failure, durationMs: Date.now() - t0, mentionOnRegression: r.mentionOnRegression,
      ...(r.reactTo ? { reactTo: { roomId: room, eventId: r.reactTo, hourglass } } : {}),
    });
  }

  /** After any run (command, schedule, browser): metrics, history, what changed, the report, the result reaction. */
  async finish(r: Finished): Promise<void> {
    const { io, config, metrics, store, log } = this.d;
    const { report, failure } = r;
    metrics.recordRun({ trigger: r.trigger, target: r.userTargets ? null : r.key, durationMs: r.durationMs, report });
    const headline: string[] = [];
    const footer: string[] = [];
    let mention: string[] = [];
    let runId: number | null = null;
    if (store) {
      try {
        runId = store.saveRun({
          trigger: r.trigger, roomId: r.roomIds[0] ?? null, requester: r.requester, targetKey: r.key, sourceKind: r.sourceKind,
          ...(report ? { report } : { error: failure ?? 'unknown', durationMs: r.durationMs }),
        });
      } catch (err) {
        const why = err instanceof StoreError ? err.userMessage : describeError(err);
        footer.push(`History: this run was not saved (${why}); I keep it and save it with the next run that can be saved.`);
        log.error('history write failed', { error: why, pending: store.pendingCount });
      }
    } else {
      footer.push(`History is not available (${this.d.storeProblem ?? 'not open'}).`);
    }
    if (report && runId !== null && store) {
      const prev = store.previousRun(r.key, runId);
      if (prev) {
        const d = diffRuns({ run: prev, findings: store.findings(prev.id) }, { run: store.getRun(runId)!, findings: store.findings(runId) });
        const since = `#${prev.id}, ${sinceTime(prev.startedAt, report.startedAt)}`;
        if (d.changed) {
          headline.push(`${d.regression ? '⚠️ Regression' : 'Changes'} since run ${since}:`, ...describeDiff(d).map((l) => `• ${l}`));
          if (d.regression && r.mentionOnRegression) mention = config.admins;
        } else {
          headline.push(`Unchanged since run ${since}.`);
        }
      }
      footer.push(`Full JSON report: ${config.commandPrefix} json ${runId}`);
    }
    for (const roomId of r.roomIds) {
      try {
        // Shown: server text defanged, URIs without credentials or query (history keeps the report as measured).
        if (!report) {
          const n = notice(safeText([failure ?? 'The test failed.', ...footer].join('\n')));
          await (r.reactTo?.roomId === roomId ? io.sendOnce(roomId, asReply(n, r.reactTo.eventId), answerTxnId(r.reactTo.eventId)) : io.send(roomId, n));
          continue;
        }
        // The summary answers the command (a reply) in its room; the details go into a thread under it.
        const m = reportMessages(displayReport(report), { headline, footer, mention });
        // The answer to a command goes with the command's own transaction id: never twice (see journal.ts).
        const rootId = await (r.reactTo?.roomId === roomId ? io.sendOnce(roomId, asReply(m.summary, r.reactTo.eventId), answerTxnId(r.reactTo.eventId)) : io.send(roomId, m.summary));
        let previous = rootId;
        for (const part of m.thread) previous = await io.send(roomId, inThread(part, rootId, previous));
      } catch (err) {
        log.error('could not post the report', { roomId, error: describeError(err) });
      }
    }
    if (r.reactTo) {
      const { roomId, eventId, hourglass } = r.reactTo;
      if (hourglass) await io.unreact(roomId, hourglass);
      await io.react(roomId, eventId, resultReaction(report));
    }
    if (r.reactTo) this.d.journal?.end(r.reactTo.eventId);
    log.info('run finished', { trigger: r.trigger, target: r.key, grade: report?.grade.overall ?? null, ms: r.durationMs });
  }

  /** After a restart: each command the previous process never answered gets "interrupted, please retry" (at most once, see journal.ts). */
  async answerInterrupted(): Promise<void> {
    const { io, journal, config, log } = this.d;
    for (const c of journal?.interrupted() ?? []) {
      const n = notice(`Your test (asked at ${c.at.slice(11, 16)} UTC) was interrupted: the bot restarted before it finished. Please retry with ${config.commandPrefix}.`);
      try {
        await io.sendOnce(c.roomId, asReply(n, c.eventId), answerTxnId(c.eventId));
        await io.react(c.roomId, c.eventId, '⚠️');
        log.info('interrupted command answered', { roomId: c.roomId, sender: c.sender });
      } catch (e) {
        log.warn('could not answer an interrupted command', { roomId: c.roomId, error: describeError(e) });
      }
      journal!.end(c.eventId);
    }
  }

  /** `json <id>`: the stored report as a file, uploaded once per run; one request per user per cooldown. */
  async sendJson(roomId: string, user: string, id: number, reply: (text: string) => Promise<void>): Promise<void> {
    const { io } = this.d;
    const wait = this.jsonCooldown.waitS(user);
    if (wait > 0) return reply(`You asked for a JSON report recently; try again in ${wait} s.`);
    this.jsonCooldown.mark(user);
    const name = `voiptest-run-${id}.json`;
    // Encrypted rooms: a fresh encrypted upload (its key goes only into this room's encrypted event).
    if (io.e2ee && await io.e2ee.isEncrypted(roomId)) {
      const json = this.d.store?.reportJson(id);
      if (!json) return reply(`Run #${id} has no stored report.`);
      await io.sendFile(roomId, { name, mimetype: 'application/json', bytes: prettyJson(json) });
      return;
    }
    let file = this.uploaded.get(id);
    if (!file) {
      const json = this.d.store?.reportJson(id);
      if (!json) return reply(`Run #${id} has no stored report.`);
      const pretty = prettyJson(json);
      const url = await io.retrying('upload', () => io.client.uploadContent(pretty, 'application/json', name), 60_000);
      file = { url, size: pretty.length };
      this.uploaded.set(id, file);
      while (this.uploaded.size > MAX_CACHED_UPLOADS) this.uploaded.delete(this.uploaded.keys().next().value!);
    }
    await io.send(roomId, { msgtype: 'm.file', body: name, filename: name, url: file.url, info: { mimetype: 'application/json', size: file.size } });
  }
}

function prettyJson(json: string): Buffer {
  return Buffer.from(`${JSON.stringify(JSON.parse(json), null, 2)}\n`, 'utf8');
}
