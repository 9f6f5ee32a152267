// Browser helper requests: the one-time link (only ever into a room with just
// the requester and the bot), the command behind each outstanding link, and
// the helper's report or failure turned into a finished run in the room the
// command came from.
import type { BotConfig } from '../config';
import type { Logger } from '../ops/log';
import { scrubText as scrub } from '../ops/redact';
import { sharedTargetKey } from '../store';
import type { CommandContext } from '../commands';
import type { FailedEvent, HelperService, ReportEvent } from '../web/service';
import type { DirectRooms } from './direct-rooms';
import type { BotIo } from './io';
import { linkMessage, linkSentNote } from './link-message';
import type { RunService } from './runs';
import { serverOf } from './source';

const MAX_OUTSTANDING = 1000;

export class BrowserRequests {
  /** The command behind each outstanding helper link ("user|room"), to react to when its report comes. */
  private readonly asked = new Map<string, { roomId: string; eventId: string }>();

  constructor(
    private readonly helper: HelperService,
    private readonly io: BotIo,
    private readonly rooms: DirectRooms,
    private readonly runs: RunService,
    private readonly config: BotConfig,
    private readonly botUserId: string,
    private readonly log: Logger,
  ) {}

  async sendLink(ctx: CommandContext, reason: 'asked' | 'other-server'): Promise<void> {
    const prefix = this.config.commandPrefix;
    const inDm = await this.rooms.isPrivateWith(ctx.roomId, ctx.sender);
    const dm = inDm ? ctx.roomId : await this.rooms.open(ctx.sender);
    if (!dm) {
      return ctx.reply({ text: 'I could not open a direct chat with you for the link (it is a one-time key, so I do not post it here). Start a direct chat with me and send ' + `${prefix} browser there.` });
    }
    const { url, expiresAt } = this.helper.createLink(ctx.sender, ctx.roomId);
    const key = `${ctx.sender}|${ctx.roomId}`;
    this.asked.delete(key);
    this.asked.set(key, { roomId: ctx.roomId, eventId: ctx.eventId });
    while (this.asked.size > MAX_OUTSTANDING) this.asked.delete(this.asked.keys().next().value!);
    const now = new Date();
    await this.io.send(dm, linkMessage({
      url, expiresAt, now, prefix, reason,
      requesterServer: serverOf(ctx.sender), botServer: serverOf(this.botUserId), reportRoom: inDm ? 'here' : ctx.roomId,
    }));
    this.log.info('browser link sent', { roomId: ctx.roomId, requester: ctx.sender, dm, reason, expiresAt: expiresAt.toISOString() });
    if (!inDm) await ctx.reply({ text: linkSentNote(dm, Math.max(1, Math.round((expiresAt.getTime() - now.getTime()) / 60_000))) });
  }

  private take(userId: string, roomId: string): { roomId: string; eventId: string } | undefined {
    const key = `${userId}|${roomId}`;
    const r = this.asked.get(key);
    this.asked.delete(key);
    return r;
  }

  async onReport(ev: ReportEvent): Promise<void> {
    const asked = this.take(ev.userId, ev.roomId);
    await this.runs.finish({
      trigger: 'browser', roomIds: [ev.roomId], requester: ev.userId, key: sharedTargetKey(ev.userId, ev.report.uris.map((u) => u.uri)), sourceKind: ev.report.source.kind,
      report: ev.report, failure: null, durationMs: ev.report.durationMs, userTargets: true,
      ...(asked ? { reactTo: { ...asked, hourglass: null } } : {}),
    });
  }

  async onFailed(ev: FailedEvent): Promise<void> {
    const asked = this.take(ev.userId, ev.roomId);
    const failure = scrub(`The browser test for ${ev.userId} could not finish: ${ev.reason}`);
    await this.runs.finish({
      trigger: 'browser', roomIds: [ev.roomId], requester: ev.userId, key: sharedTargetKey(ev.userId, []), sourceKind: 'shared',
      report: null, failure, durationMs: 0, userTargets: true,
      ...(asked ? { reactTo: { ...asked, hourglass: null } } : {}),
    });
  }
}
