// The bot object: logs in, wires Matrix and helper events to the parts that
// handle them (direct rooms, the run service, browser requests, commands),
// serves /healthz + /metrics, runs the schedule, and shuts down cleanly.
import { join } from 'node:path';
import { SimpleFsStorageProvider, type MatrixClient } from 'matrix-bot-sdk';
import { useFlatSyncLoop } from './sync-loop';
import { COMMANDS, interpret, runCommand, type CommandContext, type CommandServices, type Reply } from '../commands';
import type { BotConfig } from '../config';
import { HistoryStore, StoreError } from '../store';
import type { Logger } from '../ops/log';
import { VoiptestMetrics } from '../ops/metrics';
import { privateDataDir } from '../ops/private-files';
import { scrubText as scrub, registerSecretValue } from '../ops/redact';
import type { Health } from '../ops/server';
import { runCheck } from '../tester/engine';
import type { CheckOptions } from '../tester/options';
import type { Report } from '../tester/report';
import { TOOL_VERSION } from '../tester/version';
import type { HelperService } from '../web/service';
import { BrowserRequests } from './browser-requests';
import { connect } from './crypto/setup';
import { DirectRooms } from './direct-rooms';
import { startEndpoints, type Endpoints } from './endpoints';
import { boundedMessage, type MatrixEvent } from './incoming';
import { BotIo } from './io';
import { CommandJournal } from './journal';
import { Limits } from './limits';
import { ownPorts } from './own-ports';
import { notice } from './message';
import { engineOptionsOf, RunService } from './runs';
import { Scheduler } from './scheduler';
import { xmppAccounts } from '../commands/xmpp';
import { describeError, withRetry } from './send';
import { login, type Session } from './session';
import { chooseSource, serverOf } from './source';
import { Throttle } from './throttle';

export { engineOptionsOf } from './runs';


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

export class VoipBot {
  readonly startedAt = new Date();
  private client!: MatrixClient;
  private session!: Session;
  private displayName: string | null = null;
  private store: HistoryStore | null = null;
  private storeProblem: string | null = null;
  private scheduler!: Scheduler;
  private readonly limits: Limits;
  private io!: BotIo;
  private rooms!: DirectRooms;
  private runs!: RunService;
  private journal!: CommandJournal;
  /** Null when the helper is off. */
  private browser: BrowserRequests | null = null;
  private stopping = false;
  private hadSyncToken = false;
  private readonly adminRoomIds = new Set<string>();
  /** One refusal per user per 10 s: a flood gets an answer, not a flood of answers. */
  private readonly refusalNotices = new Throttle(10_000);
  private readonly engine: (o: CheckOptions) => Promise<Report>;
  readonly metrics = new VoiptestMetrics({ version: TOOL_VERSION });
  private endpoints: Endpoints | null = null;
  private syncing = false;
  private lastSyncAt = 0;

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
      privateDataDir(c.dataDir);
    } catch (e) {
      this.log.warn('could not make the data directory private (0700/0600)', { dataDir: c.dataDir, error: describeError(e) });
    }
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
      ownPorts: ownPorts(() => this.client ?? null, c.turn.uris),
      runCheck: (o) => {
        const done = this.metrics.runStarted();
        return this.engine(o).finally(done);
      },
    });
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
    const connected = await connect({ config: c, session: this.session, storage, log: this.log, isStopping: () => this.stopping });
    this.client = connected.client;
    useFlatSyncLoop(this.client); // the SDK's recursive loop grows the heap with every sync
    this.session = connected.session;
    this.client.syncingTimeout = 10_000;
    this.io = new BotIo(this.client, this.log, () => this.stopping, connected.e2ee);
    this.rooms = new DirectRooms(this.io, this.session.userId, c.commandPrefix, this.store, this.log);
    this.journal = new CommandJournal(this.store);
    this.runs = new RunService({ config: c, io: this.io, engine: this.engine, metrics: this.metrics, store: this.store, storeProblem: this.storeProblem, log: this.log, journal: this.journal });
    const helper = this.helper;
    if (helper) {
      const browser = new BrowserRequests(helper, this.io, this.rooms, this.runs, c, this.session.userId, this.log);
      this.browser = browser;
      helper.on('report', (ev) => { if (!this.stopping) this.guard('browser report', browser.onReport(ev)); });
      helper.on('failed', (ev) => { if (!this.stopping) this.guard('browser failure', browser.onFailed(ev)); });
    }
    this.client.on('room.invite', (roomId: string, ev: MatrixEvent) => this.guard('invite', this.onInvite(roomId, ev)));
    this.client.on('room.join', (roomId: string) => this.guard('join', this.onJoin(roomId)));
    this.client.on('room.message', (roomId: string, ev: MatrixEvent) => this.guard('message', this.onMessage(roomId, ev)));
    this.client.on('room.event', (roomId: string, ev: MatrixEvent) => {
      if (ev.type === 'm.room.encrypted' && !this.io.e2ee) this.guard('encrypted', this.onEncrypted(roomId, ev));
    });
    this.client.on('room.failed_decryption', (roomId: string, ev: MatrixEvent, err: unknown) => {
      if (ev.sender !== this.session.userId && !this.isStale(ev)) this.guard('undecryptable', this.rooms.undecryptableNotice(roomId, ev.sender, ev.event_id, err));
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
    // After the sync started (encryption is ready then); a replayed in-flight command is ignored meanwhile (journal.known).
    this.guard('interrupted commands', this.runs.answerInterrupted());
    this.scheduler.start();
    this.log.info('syncing', { nextScheduledRun: this.scheduler.info().nextRun?.toISOString() ?? null });
  }

  /** Stop syncing, let runs finish (bounded), close the database. */
  async stop(graceMs = Math.min(this.config.engine.timeoutMs + 5000, 30_000)): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.scheduler?.stop();
    this.client?.stop();
    const pending = this.runs?.pending() ?? [];
    if (pending.length) {
      this.log.info('waiting for runs to finish', { runs: pending.length });
      await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    await this.endpoints?.stop();
    await this.io?.e2ee?.close().catch((e) => this.log.warn('crypto store not saved at shutdown', { error: describeError(e) }));
    this.store?.close();
    this.log.info('stopped');
  }

  private guard(what: string, p: Promise<unknown>): void {
    p.catch((e) => this.log.error(`${what} handler failed`, { error: scrub(describeError(e)) }));
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
      await this.io.retrying('join', () => this.client.joinRoom(roomId), 60_000);
    } else {
      this.log.info('declining invite', { roomId, inviter: ev.sender });
      await this.io.retrying('decline', () => this.client.leaveRoom(roomId, 'This bot only joins rooms when invited by allowed users.'), 60_000);
    }
  }

  private async onJoin(roomId: string): Promise<void> {
    if (!this.io.e2ee && await this.rooms.isEncrypted(roomId)) await this.rooms.encryptedNotice(roomId, null);
  }

  private async onEncrypted(roomId: string, ev: MatrixEvent): Promise<void> {
    if (ev.sender === this.session.userId || this.isStale(ev)) return;
    await this.rooms.encryptedNotice(roomId, ev.sender);
  }

  // ---- commands ------------------------------------------------------------

  private isStale(ev: MatrixEvent): boolean {
    const ts = ev.origin_server_ts ?? Date.now();
    if (Date.now() - ts > STALE_EVENT_MS) return true;
    // First start without a sync token: the initial sync replays history; answer none of it.
    return !this.hadSyncToken && ts < this.startedAt.getTime() - 5000;
  }

  private async onMessage(roomId: string, raw: MatrixEvent): Promise<void> {
    const ev = boundedMessage(raw);
    if (!ev || this.stopping || ev.sender === this.session.userId || this.isStale(ev)) return;
    if (this.journal.known(ev.event_id)) return; // a sync replayed after a crash: answered already

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
        await this.io.send(roomId, { ...notice(r.text, r.html), 'm.relates_to': { 'm.in_reply_to': { event_id: ev.event_id } } });
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
      sendJson: (ctx, id) => this.runs.sendJson(ctx.roomId, ctx.sender, id, (text) => ctx.reply({ text })),
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

  /** `!voiptest` (and `!voiptest browser`): admission, then a run here or a helper link in a DM. */
  private async requestRun(ctx: CommandContext, opts: { browser?: boolean; xmpp?: boolean } = {}): Promise<void> {
    if (this.stopping) return ctx.reply({ text: 'I am shutting down; try again in a minute.' });
    if (opts.xmpp) return this.xmppRuns(ctx);
    const source = chooseSource(ctx.sender, this.session, this.config, { browser: opts.browser === true, helper: this.browser !== null });
    if (source.kind === 'refuse') return ctx.reply({ text: source.message });
    const adm = this.limits.admit(ctx.sender, ctx.roomId);
    if (!adm.ok) {
      // One refusal per user per 10 s: a flood gets an answer, not a flood of answers.
      if (this.refusalNotices.take(ctx.sender)) await ctx.reply({ text: adm.message });
      return;
    }
    if (source.kind === 'browser') {
      // A link costs no run slot (the helper bounds its own sessions); the cooldown still applies.
      adm.release();
      return this.browser!.sendLink(ctx, source.reason);
    }
    await this.runs.run({ trigger: 'command', roomIds: [ctx.roomId], requester: ctx.sender, spec: source.spec, reactTo: ctx.eventId })
      .finally(() => adm.release());
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
    try {
      if (source.kind === 'run') await this.runs.run({ trigger: 'schedule', roomIds: rooms, requester: null, spec: source.spec, mentionOnRegression: true });
      // The XMPP accounts' services: a section (report) each, after the homeserver's.
      for (const spec of xmppAccounts(this.config).specs) {
        if (this.stopping) break;
        await this.runs.run({ trigger: 'schedule', roomIds: rooms, requester: null, spec, mentionOnRegression: true });
      }
    } finally {
      adm.release();
    }
  }

  /** `!voiptest xmpp` (admins): each configured XMPP account's services, one report each, in one run slot. */
  private async xmppRuns(ctx: CommandContext): Promise<void> {
    const { specs, problems } = xmppAccounts(this.config);
    if (specs.length === 0) {
      return ctx.reply({ text: ['No XMPP account to test: add JIDs to xmpp.accounts and their passwords to xmpp.passwords.', ...problems].join('\n') });
    }
    if (problems.length) await ctx.reply({ text: `Skipped: ${problems.join('; ')}` });
    const adm = this.limits.admit(ctx.sender, ctx.roomId);
    if (!adm.ok) {
      if (this.refusalNotices.take(ctx.sender)) await ctx.reply({ text: adm.message });
      return;
    }
    try {
      for (const spec of specs) await this.runs.run({ trigger: 'command', roomIds: [ctx.roomId], requester: ctx.sender, spec, reactTo: ctx.eventId });
    } finally {
      adm.release();
    }
  }
}
