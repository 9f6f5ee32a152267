// The bot runtime: matrix-bot-sdk client, invites, commands, runs with
// reactions and one report message, encrypted-room fallback, the scheduled
// report, browser helper links (reports from the helper join the room the
// command came from), /healthz + /metrics, and a clean shutdown. The engine
// is called through runCheck only.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { MatrixClient, SimpleFsStorageProvider } from 'matrix-bot-sdk';
import { COMMANDS, interpret, runCommand, type CommandContext, type CommandServices, type Reply } from '../commands';
import type { BotConfig } from '../config';
import { describeDiff, diffRuns, HistoryStore, StoreError, targetKey, type Trigger } from '../store';
import type { Logger } from '../ops/log';
import { VoiptestMetrics } from '../ops/metrics';
import { scrubText as scrub, registerSecretValue } from '../ops/redact';
import type { Health } from '../ops/server';
import { reportTargetKey } from '../store/target';
import { runCheck, RunRefusedError } from '../tester/engine';
import type { CheckOptions } from '../tester/options';
import type { Report } from '../tester/report';
import type { SourceKind } from '../tester/types';
import { TOOL_VERSION } from '../tester/version';
import type { FailedEvent, HelperService, ReportEvent } from '../web/service';
import { startEndpoints, type Endpoints } from './endpoints';
import { Limits } from './limits';
import { linkMessage, linkSentNote } from './link-message';
import { notice, reportContent, resultEmoji, type MessageContent } from './message';
import { Scheduler } from './scheduler';
import { describeError, withRetry } from './send';
import { login, type Session } from './session';
import { chooseSource, serverOf } from './source';
import type { CredentialSpec } from '../tester/credentials/types';

type MatrixEvent = { type: string; sender: string; event_id: string; origin_server_ts?: number; state_key?: string; content?: Record<string, unknown> };

export interface BotDeps {
  /** The engine (injectable so a test can hold a run open; defaults to runCheck). */
  runCheck?: (o: CheckOptions) => Promise<Report>;
}

const STALE_EVENT_MS = 10 * 60_000;
// Without a filter Synapse sends at most 10 timeline events per room per sync
// and drops the rest ("limited"): a burst of commands in one room lost some.
const SYNC_FILTER = {
  presence: { types: [] as string[] },
  room: { timeline: { limit: 200 }, ephemeral: { types: [] as string[] } },
};
/** A sync older than this makes /healthz say 503 (long polls return every ~10 s). */
const SYNC_STALE_MS = 90_000;

/** Engine options from the config (CA files read as PEM text). */
export function engineOptionsOf(e: BotConfig['engine']): Omit<CheckOptions, 'credentials'> {
  return {
    family: e.family as CheckOptions['family'], allowPrivate: e.allowPrivate, assumePublic: e.assumePublic,
    ca: e.ca.length ? e.ca.map((f) => readFileSync(f, 'utf8')) : undefined,
    quality: e.quality as CheckOptions['quality'], timeoutMs: e.timeoutMs, e2e: e.e2e,
  };
}

interface Finished {
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
}

export class VoipBot {
  readonly startedAt = new Date();
  private client!: MatrixClient;
  private session!: Session;
  private displayName: string | null = null;
  private store: HistoryStore | null = null;
  private storeProblem: string | null = null;
  private scheduler!: Scheduler;
  private readonly limits: Limits;
  private readonly runs = new Set<Promise<void>>();
  private stopping = false;
  private hadSyncToken = false;
  private readonly adminRoomIds = new Set<string>();
  private readonly refusalNoticeAt = new Map<string, number>();
  private readonly encryptedNoticeAt = new Map<string, number>();
  private readonly dmRooms = new Map<string, string>();
  private readonly engine: (o: CheckOptions) => Promise<Report>;
  readonly metrics = new VoiptestMetrics({ version: TOOL_VERSION });
  private endpoints: Endpoints | null = null;
  private syncing = false;
  private lastSyncAt = 0;
  /** The command behind each outstanding helper link ("user|room"), to react to when its report comes. */
  private readonly browserRequests = new Map<string, { roomId: string; eventId: string }>();

  constructor(readonly config: BotConfig, private readonly log: Logger, deps: BotDeps = {}) {
    this.limits = new Limits({ ...config.limits, expectedRunMs: config.engine.timeoutMs });
    this.engine = deps.runCheck ?? ((o) => runCheck(o));
  }

  /** The browser helper (null when web.enabled is false or before start). */
  get helper(): HelperService | null {
    return this.endpoints?.helper ?? null;
  }

  /** Where /healthz and /metrics answer (null when off). */
  get opsUrl(): string | null {
    return this.endpoints?.opsUrl ?? null;
  }

  /** /healthz: healthy while a sync finished recently and we are not stopping. */
  health(): Health {
    const age = this.lastSyncAt ? Date.now() - this.lastSyncAt : null;
    const sync = this.stopping ? 'stopping' : !this.syncing || age === null ? 'starting' : age < SYNC_STALE_MS ? 'running' : 'stale';
    return {
      ok: sync === 'running',
      detail: {
        sync, lastSyncAgeS: age === null ? null : Math.round(age / 1000), uptimeS: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
        runsInProgress: this.limits.active, helper: this.endpoints?.helper ? 'on' : 'off',
      },
    };
  }

  get userId(): string {
    return this.session.userId;
  }

  get activeRuns(): number {
    return this.limits.active;
  }

  async start(): Promise<void> {
    const c = this.config;
    try {
      this.store = HistoryStore.open(join(c.dataDir, 'history.db'));
    } catch (e) {
      // Keep running without history; every history answer says why.
      this.storeProblem = e instanceof StoreError ? e.userMessage : describeError(e);
      this.log.error('history database unavailable', { problem: this.storeProblem });
    }
    // Raw secret values are scrubbed from every log line, whichever library echoes them.
    for (const secret of [c.homeserver.accessToken, c.homeserver.password, c.turn.sharedSecret]) registerSecretValue(secret);
    // HTTP first: /healthz answers (503) while we log in and catch up.
    this.endpoints = await startEndpoints({
      config: c, metrics: this.metrics, health: () => this.health(), engineOptions: engineOptionsOf(c.engine), log: this.log,
      runCheck: (o) => {
        const done = this.metrics.runStarted();
        return this.engine(o).finally(done);
      },
    });
    this.helper?.on('report', (ev) => this.guard('browser report', this.onBrowserReport(ev)));
    this.helper?.on('failed', (ev) => this.guard('browser failure', this.onBrowserFailed(ev)));
    this.session = await login(c);
    registerSecretValue(this.session.accessToken);
    this.log.info('logged in', { userId: this.session.userId, deviceId: this.session.deviceId });
    const storage = new SimpleFsStorageProvider(join(c.dataDir, 'sync.json'));
    this.hadSyncToken = Boolean(await Promise.resolve(storage.getSyncToken()));
    // Every completed sync stores its token: that is our liveness signal for /healthz.
    const setSyncToken = storage.setSyncToken.bind(storage);
    storage.setSyncToken = (token: string | null) => {
      this.lastSyncAt = Date.now();
      return setSyncToken(token);
    };
    this.client = new MatrixClient(c.homeserver.url, this.session.accessToken.reveal(), storage);
    this.client.syncingTimeout = 10_000;
    this.dmRooms.clear();
    for (const [u, r] of Object.entries(this.store?.getSetting<Record<string, string>>('dmRooms') ?? {})) this.dmRooms.set(u, r);
    this.client.on('room.invite', (roomId: string, ev: MatrixEvent) => this.guard('invite', this.onInvite(roomId, ev)));
    this.client.on('room.join', (roomId: string) => this.guard('join', this.onJoin(roomId)));
    this.client.on('room.message', (roomId: string, ev: MatrixEvent) => this.guard('message', this.onMessage(roomId, ev)));
    this.client.on('room.event', (roomId: string, ev: MatrixEvent) => {
      if (ev.type === 'm.room.encrypted') this.guard('encrypted', this.onEncrypted(roomId, ev));
    });
    try {
      const p = await this.client.getUserProfile(this.session.userId);
      this.displayName = typeof p?.displayname === 'string' ? p.displayname : null;
    } catch {
      this.displayName = null;
    }
    for (const r of c.adminRooms) {
      try {
        this.adminRoomIds.add(r.startsWith('#') ? await this.client.resolveRoom(r) : r);
      } catch (e) {
        this.log.warn('admin room alias does not resolve', { room: r, error: describeError(e) });
      }
    }
    this.scheduler = new Scheduler(c, this.store, () => this.scheduledRun(), (e) => this.log.error('scheduled run failed', { error: describeError(e) }));
    await withRetry('start sync', () => this.client.start(SYNC_FILTER), { deadlineMs: 120_000, isStopping: () => this.stopping });
    this.syncing = true;
    this.scheduler.start();
    this.log.info('syncing', { nextScheduledRun: this.scheduler.info().nextRun?.toISOString() ?? null });
  }

  /** Stop syncing, let runs finish (bounded), close the database. */
  async stop(graceMs = Math.min(this.config.engine.timeoutMs + 5000, 30_000)): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.scheduler?.stop();
    this.client?.stop();
    const pending = [...this.runs];
    if (pending.length) {
      this.log.info('waiting for runs to finish', { runs: pending.length });
      await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    await this.endpoints?.stop();
    this.store?.close();
    this.log.info('stopped');
  }

  private guard(what: string, p: Promise<unknown>): void {
    p.catch((e) => this.log.error(`${what} handler failed`, { error: scrub(describeError(e)) }));
  }

  private retrying<T>(what: string, fn: () => Promise<T>, deadlineMs = 300_000): Promise<T> {
    return withRetry(what, fn, { deadlineMs: this.stopping ? 5000 : deadlineMs, isStopping: () => this.stopping });
  }

  private send(roomId: string, content: MessageContent | Record<string, unknown>): Promise<string> {
    return this.retrying('send', () => this.client.sendEvent(roomId, 'm.room.message', content));
  }

  // ---- invites and rooms --------------------------------------------------

  inviterAllowed(inviter: string): boolean {
    const c = this.config;
    return c.invites.everyone || c.admins.includes(inviter) || c.invites.users.includes(inviter) || c.invites.servers.map((s) => s.toLowerCase()).includes(serverOf(inviter));
  }

  private async onInvite(roomId: string, ev: MatrixEvent): Promise<void> {
    if (ev.state_key !== this.session.userId) return;
    if (this.inviterAllowed(ev.sender)) {
      this.log.info('joining', { roomId, inviter: ev.sender });
      await this.retrying('join', () => this.client.joinRoom(roomId), 60_000);
    } else {
      this.log.info('declining invite', { roomId, inviter: ev.sender });
      await this.retrying('decline', () => this.client.leaveRoom(roomId, 'This bot only joins rooms when invited by allowed users.'), 60_000);
    }
  }

  private async isEncrypted(roomId: string): Promise<boolean> {
    try {
      await this.client.getRoomStateEvent(roomId, 'm.room.encryption', '');
      return true;
    } catch {
      return false;
    }
  }

  private async onJoin(roomId: string): Promise<void> {
    if (await this.isEncrypted(roomId)) await this.encryptedNotice(roomId, null);
  }

  private async onEncrypted(roomId: string, ev: MatrixEvent): Promise<void> {
    if (ev.sender === this.session.userId || this.isStale(ev)) return;
    await this.encryptedNotice(roomId, ev.sender);
  }

  /** Say plainly (unencrypted) that we cannot read this room, and open a DM that works. */
  private async encryptedNotice(roomId: string, requester: string | null): Promise<void> {
    const key = `${roomId}|${requester ?? ''}`;
    const last = this.encryptedNoticeAt.get(key) ?? 0;
    if (Date.now() - last < 10 * 60_000) return;
    this.encryptedNoticeAt.set(key, Date.now());
    let dmNote = '';
    if (requester && requester !== this.session.userId) {
      const dm = await this.openDm(requester);
      dmNote = dm ? ` I have invited you to an unencrypted room (${dm}) where ${this.config.commandPrefix} works.` : '';
    }
    await this.send(roomId, notice(
      `This room is encrypted and I cannot read encrypted messages (I have no end-to-end encryption).${dmNote} ` +
      `Commands and reports carry no secrets, so an unencrypted room is fine for them.`,
    ));
  }

  private async openDm(user: string): Promise<string | null> {
    const known = this.dmRooms.get(user);
    if (known) {
      try {
        const members = await this.client.getJoinedRoomMembers(known);
        // Reused only while it is still just the two of us, unencrypted (links go here).
        const onlyUs = members.every((m) => m === user || m === this.session.userId);
        if (members.includes(this.session.userId) && onlyUs && !(await this.isEncrypted(known))) {
          if (!members.includes(user)) await this.client.inviteUser(user, known).catch(() => undefined);
          return known;
        }
      } catch {
        // fall through: make a new one
      }
    }
    try {
      const roomId = await this.retrying('create DM', () => this.client.createRoom({
        preset: 'trusted_private_chat', is_direct: true, invite: [user], name: 'VoIP test (unencrypted)',
        topic: `Unencrypted on purpose: the bot cannot read encrypted messages. Type ${this.config.commandPrefix}.`,
      }), 60_000);
      this.dmRooms.set(user, roomId);
      try {
        this.store?.setSetting('dmRooms', Object.fromEntries(this.dmRooms));
      } catch (e) {
        this.log.warn('could not remember the DM room', { error: describeError(e) });
      }
      await this.send(roomId, notice(`Hello! This room is not encrypted, so I can read it. Type ${this.config.commandPrefix} to test the VoIP setup, or ${this.config.commandPrefix} help.`));
      return roomId;
    } catch (e) {
      this.log.error('could not open a DM', { user, error: describeError(e) });
      return null;
    }
  }

  // ---- commands ------------------------------------------------------------

  private isStale(ev: MatrixEvent): boolean {
    const ts = ev.origin_server_ts ?? Date.now();
    if (Date.now() - ts > STALE_EVENT_MS) return true;
    // First start without a sync token: the initial sync replays history; answer none of it.
    return !this.hadSyncToken && ts < this.startedAt.getTime() - 5000;
  }

  private async onMessage(roomId: string, ev: MatrixEvent): Promise<void> {
    if (this.stopping || ev.sender === this.session.userId || this.isStale(ev)) return;
    const content = ev.content ?? {};
    if (content.msgtype !== 'm.text') return; // notices are bot talk: never answer them (no loops)
    if ((content['m.relates_to'] as { rel_type?: string } | undefined)?.rel_type === 'm.replace') return;
    const isAdmin = this.config.admins.includes(ev.sender);
    const d = interpret(content, { prefix: this.config.commandPrefix, botUserId: this.session.userId, displayName: this.displayName }, isAdmin, COMMANDS);
    if (d.kind === 'ignored') return;
    const ctx = this.context(roomId, ev, isAdmin);
    if (d.kind !== 'command') {
      await ctx.reply({ text: d.message });
      return;
    }
    this.log.info('command', { roomId, sender: ev.sender, command: d.spec.name || 'run' });
    await runCommand(d, ctx);
  }

  private context(roomId: string, ev: MatrixEvent, isAdmin: boolean): CommandContext {
    return {
      roomId,
      eventId: ev.event_id,
      sender: ev.sender,
      isAdmin,
      inAdminRoom: this.adminRoomIds.has(roomId),
      reply: async (r: Reply) => {
        await this.send(roomId, { ...notice(r.text, r.html), 'm.relates_to': { 'm.in_reply_to': { event_id: ev.event_id } } });
      },
      services: this.services(),
    };
  }

  private services(): CommandServices {
    return {
      config: this.config,
      version: TOOL_VERSION,
      startedAt: this.startedAt,
      now: () => new Date(),
      history: this.store,
      historyProblem: this.storeProblem,
      schedule: {
        info: () => this.scheduler.info(),
        set: (cron, tz) => this.wrapStore(() => this.scheduler.set(cron, tz)),
        setRooms: (rooms) => this.wrapStore(() => this.scheduler.setRooms(rooms)),
      },
      requestRun: (ctx, opts) => this.requestRun(ctx, opts),
      sendJson: (ctx, id) => this.sendJson(ctx, id),
      activeRuns: () => this.limits.active,
    };
  }

  private wrapStore<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof StoreError) throw new Error(`${e.userMessage}`);
      throw e;
    }
  }

  private async sendJson(ctx: CommandContext, id: number): Promise<void> {
    const json = this.store?.reportJson(id);
    if (!json) return ctx.reply({ text: `Run #${id} has no stored report.` });
    const pretty = Buffer.from(`${JSON.stringify(JSON.parse(json), null, 2)}\n`, 'utf8');
    const name = `voiptest-run-${id}.json`;
    const url = await this.retrying('upload', () => this.client.uploadContent(pretty, 'application/json', name), 60_000);
    await this.send(ctx.roomId, { msgtype: 'm.file', body: name, filename: name, url, info: { mimetype: 'application/json', size: pretty.length } });
  }

  /** `!voiptest` (and `!voiptest browser`): admission, then a run here or a helper link in a DM. */
  private async requestRun(ctx: CommandContext, opts: { browser?: boolean } = {}): Promise<void> {
    if (this.stopping) return ctx.reply({ text: 'I am shutting down; try again in a minute.' });
    const source = chooseSource(ctx.sender, this.session, this.config, { browser: opts.browser === true, helper: this.helper !== null });
    if (source.kind === 'refuse') return ctx.reply({ text: source.message });
    const adm = this.limits.admit(ctx.sender, ctx.roomId);
    if (!adm.ok) {
      // One refusal per user per 10 s: a flood gets an answer, not a flood of answers.
      const last = this.refusalNoticeAt.get(ctx.sender) ?? 0;
      if (Date.now() - last > 10_000) {
        this.refusalNoticeAt.set(ctx.sender, Date.now());
        await ctx.reply({ text: adm.message });
      }
      return;
    }
    if (source.kind === 'browser') {
      // A link costs no run slot (the helper bounds its own sessions); the cooldown still applies.
      adm.release();
      return this.sendBrowserLink(ctx, source.reason);
    }
    const job = this.executeRun({ trigger: 'command', roomIds: [ctx.roomId], requester: ctx.sender, spec: source.spec, reactTo: ctx.eventId })
      .finally(() => adm.release());
    this.track(job);
    await job;
  }

  private track(p: Promise<void>): void {
    const q = p.catch(() => undefined).finally(() => this.runs.delete(q));
    this.runs.add(q);
  }

  private async react(roomId: string, eventId: string, key: string): Promise<string | null> {
    try {
      return await this.retrying('react', () => this.client.sendEvent(roomId, 'm.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key } }), 30_000);
    } catch (e) {
      this.log.warn('reaction failed', { roomId, error: describeError(e) });
      return null;
    }
  }

  private async executeRun(r: { trigger: Trigger; roomIds: string[]; requester: string | null; spec: CredentialSpec; reactTo?: string; mentionOnRegression?: boolean }): Promise<void> {
    const room = r.roomIds[0]!;
    const hourglass = r.reactTo ? await this.react(room, r.reactTo, '⏳') : null;
    const options: CheckOptions = { ...engineOptionsOf(this.config.engine), credentials: r.spec };
    const t0 = Date.now();
    const done = this.metrics.runStarted();
    let report: Report | null = null;
    let failure: string | null = null;
    try {
      report = await this.engine(options);
    } catch (err) {
      failure = err instanceof RunRefusedError ? `I cannot test that: ${err.message}` : `The test could not run: ${describeError(err)}`;
      failure = scrub(failure);
      this.log.warn('run failed', { trigger: r.trigger, error: failure });
    } finally {
      done();
    }
    await this.finishRun({
      trigger: r.trigger, roomIds: r.roomIds, requester: r.requester, key: targetKey(r.spec), sourceKind: r.spec.kind,
      report, failure, durationMs: Date.now() - t0, mentionOnRegression: r.mentionOnRegression,
      ...(r.reactTo ? { reactTo: { roomId: room, eventId: r.reactTo, hourglass } } : {}),
    });
  }

  /** After any run (command, schedule, browser): metrics, history, what changed, the report, the result reaction. */
  private async finishRun(r: Finished): Promise<void> {
    const { report, failure } = r;
    this.metrics.recordRun({ trigger: r.trigger, target: r.key, durationMs: r.durationMs, report });
    const headline: string[] = [];
    const footer: string[] = [];
    let mention: string[] = [];
    let runId: number | null = null;
    if (this.store) {
      try {
        runId = this.store.saveRun({
          trigger: r.trigger, roomId: r.roomIds[0] ?? null, requester: r.requester, targetKey: r.key, sourceKind: r.sourceKind,
          ...(report ? { report } : { error: failure ?? 'unknown', durationMs: r.durationMs }),
        });
      } catch (err) {
        const why = err instanceof StoreError ? err.userMessage : describeError(err);
        footer.push(`History: this run was not saved (${why}); I keep it and save it with the next run that can be saved.`);
        this.log.error('history write failed', { error: why, pending: this.store.pendingCount });
      }
    } else {
      footer.push(`History is not available (${this.storeProblem ?? 'not open'}).`);
    }
    if (report && runId !== null) {
      const prev = this.store!.previousRun(r.key, runId);
      if (prev) {
        const d = diffRuns({ run: prev, findings: this.store!.findings(prev.id) }, { run: this.store!.getRun(runId)!, findings: this.store!.findings(runId) });
        if (d.changed) {
          headline.push(`${d.regression ? '⚠️ Regression' : 'Changes'} since run #${prev.id} (${prev.startedAt.slice(0, 16).replace('T', ' ')} UTC):`, ...describeDiff(d).map((l) => `• ${l}`));
          if (d.regression && r.mentionOnRegression) mention = this.config.admins;
        }
      }
      footer.push(`Full JSON report: ${this.config.commandPrefix} json ${runId}`);
    }
    for (const roomId of r.roomIds) {
      try {
        await this.send(roomId, report ? reportContent(report, { headline, footer, mention }) : notice([failure ?? 'The test failed.', ...footer].join('\n')));
      } catch (err) {
        this.log.error('could not post the report', { roomId, error: describeError(err) });
      }
    }
    if (r.reactTo) {
      const { roomId, eventId, hourglass } = r.reactTo;
      if (hourglass) await this.retrying('redact', () => this.client.redactEvent(roomId, hourglass), 30_000).catch((err) => this.log.warn('redact failed', { error: describeError(err) }));
      await this.react(roomId, eventId, resultEmoji(report));
    }
    this.log.info('run finished', { trigger: r.trigger, target: r.key, grade: report?.grade.overall ?? null, ms: r.durationMs });
  }

  // ---- browser helper --------------------------------------------------------

  /** A room only the requester and the bot are in (or invited to), unencrypted: the only place a link may go. */
  private async isPrivateWith(roomId: string, user: string): Promise<boolean> {
    try {
      const res = await this.client.doRequest('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/members`) as { chunk?: { state_key?: string; content?: { membership?: string } }[] };
      const who = new Set((res.chunk ?? []).filter((e) => e.content?.membership === 'join' || e.content?.membership === 'invite').map((e) => e.state_key));
      return who.has(this.session.userId) && who.has(user) && who.size === 2 && !(await this.isEncrypted(roomId));
    } catch (e) {
      this.log.debug('membership lookup failed', { roomId, error: describeError(e) });
      return false;
    }
  }

  private async sendBrowserLink(ctx: CommandContext, reason: 'asked' | 'other-server'): Promise<void> {
    const helper = this.helper!;
    const inDm = await this.isPrivateWith(ctx.roomId, ctx.sender);
    const dm = inDm ? ctx.roomId : await this.openDm(ctx.sender);
    if (!dm) {
      return ctx.reply({ text: 'I could not open a direct chat with you for the link (it is a one-time key, so I do not post it here). Start a direct chat with me and send ' + `${this.config.commandPrefix} browser there.` });
    }
    const { url, expiresAt } = helper.createLink(ctx.sender, ctx.roomId);
    const key = `${ctx.sender}|${ctx.roomId}`;
    this.browserRequests.delete(key);
    this.browserRequests.set(key, { roomId: ctx.roomId, eventId: ctx.eventId });
    while (this.browserRequests.size > 1000) this.browserRequests.delete(this.browserRequests.keys().next().value!);
    const now = new Date();
    await this.send(dm, linkMessage({
      url, expiresAt, now, prefix: this.config.commandPrefix, reason,
      requesterServer: serverOf(ctx.sender), botServer: serverOf(this.session.userId), reportRoom: inDm ? 'here' : ctx.roomId,
    }));
    this.log.info('browser link sent', { roomId: ctx.roomId, requester: ctx.sender, dm, reason, expiresAt: expiresAt.toISOString() });
    if (!inDm) await ctx.reply({ text: linkSentNote(dm, Math.max(1, Math.round((expiresAt.getTime() - now.getTime()) / 60_000))) });
  }

  private takeBrowserRequest(userId: string, roomId: string): { roomId: string; eventId: string } | undefined {
    const key = `${userId}|${roomId}`;
    const r = this.browserRequests.get(key);
    this.browserRequests.delete(key);
    return r;
  }

  private async onBrowserReport(ev: ReportEvent): Promise<void> {
    if (this.stopping) return;
    const asked = this.takeBrowserRequest(ev.userId, ev.roomId);
    await this.finishRun({
      trigger: 'browser', roomIds: [ev.roomId], requester: ev.userId, key: reportTargetKey(ev.report), sourceKind: ev.report.source.kind,
      report: ev.report, failure: null, durationMs: ev.report.durationMs,
      ...(asked ? { reactTo: { ...asked, hourglass: null } } : {}),
    });
  }

  private async onBrowserFailed(ev: FailedEvent): Promise<void> {
    if (this.stopping) return;
    const asked = this.takeBrowserRequest(ev.userId, ev.roomId);
    const failure = scrub(`The browser test for ${ev.userId} could not finish: ${ev.reason}`);
    await this.finishRun({
      trigger: 'browser', roomIds: [ev.roomId], requester: ev.userId, key: 'browser:unknown', sourceKind: 'shared',
      report: null, failure, durationMs: 0,
      ...(asked ? { reactTo: { ...asked, hourglass: null } } : {}),
    });
  }

  // ---- schedule ----------------------------------------------------------------

  /** Run now as the scheduler would (also used by tests and `status`). */
  async scheduledRun(): Promise<void> {
    if (this.stopping) return;
    const rooms: string[] = [];
    for (const r of this.scheduler.rooms()) {
      try {
        rooms.push(r.startsWith('#') ? await this.client.resolveRoom(r) : r);
      } catch (e) {
        this.log.warn('scheduled room does not resolve', { room: r, error: describeError(e) });
      }
    }
    if (rooms.length === 0) {
      this.log.warn('scheduled run skipped: no rooms (set schedule.rooms or adminRooms)');
      return;
    }
    // The schedule skips cooldowns but not the concurrency bound: wait (bounded) for a slot.
    let adm = this.limits.admit('schedule', 'schedule', { ignoreCooldown: true });
    const until = Date.now() + this.config.engine.timeoutMs * 2;
    while (!adm.ok && Date.now() < until && !this.stopping) {
      await new Promise((r) => setTimeout(r, 1000));
      adm = this.limits.admit('schedule', 'schedule', { ignoreCooldown: true });
    }
    if (!adm.ok) {
      this.log.warn('scheduled run skipped: busy');
      return;
    }
    const source = chooseSource(null, this.session, this.config, { helper: false });
    if (source.kind !== 'run') {
      adm.release();
      return;
    }
    const job = this.executeRun({ trigger: 'schedule', roomIds: rooms, requester: null, spec: source.spec, mentionOnRegression: true }).finally(() => adm.release());
    this.track(job);
    await job;
  }
}
