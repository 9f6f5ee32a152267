// Rooms with just the requester and the bot: the one "just the two of us"
// test (unencrypted, or encrypted when the bot has end-to-end encryption), the
// DM the bot opens (and remembers) when it must talk to someone privately, and
// the notices in rooms it cannot read.
import type { Logger } from '../ops/log';
import type { HistoryStore } from '../store';
import type { BotIo } from './io';
import { htmlEscape } from '../render/escape';
import { notice, roomLink } from './message';
import { describeError } from './send';
import { serverOf } from './source';
import { Throttle } from './throttle';

const ENCRYPTED_NOTICE_EVERY_MS = 10 * 60_000;
const ENCRYPTED_POINTER_EVERY_MS = 60_000;
/** The DM's name, as the notice and the link call it. */
export const DM_NAME = 'VoIP test (unencrypted)';

interface Membership { botIn: boolean; userIn: boolean; others: boolean; encrypted: boolean }

export class DirectRooms {
  private readonly dms = new Map<string, string>();
  private readonly encryptedNotices = new Throttle(ENCRYPTED_NOTICE_EVERY_MS);
  private readonly encryptedPointers = new Throttle(ENCRYPTED_POINTER_EVERY_MS);

  constructor(
    private readonly io: BotIo,
    private readonly botUserId: string,
    private readonly prefix: string,
    private readonly store: HistoryStore | null,
    private readonly log: Logger,
  ) {
    for (const [u, r] of Object.entries(store?.getSetting<Record<string, string>>('dmRooms') ?? {})) this.dms.set(u, r);
  }

  async isEncrypted(roomId: string): Promise<boolean> {
    try {
      await this.io.client.getRoomStateEvent(roomId, 'm.room.encryption', '');
      return true;
    } catch {
      return false;
    }
  }

  /** Who is in the room (joined or invited) relative to `user` and the bot. */
  private async membership(roomId: string, user: string): Promise<Membership | null> {
    try {
      const res = await this.io.client.doRequest('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/members`) as { chunk?: { state_key?: string; content?: { membership?: string } }[] };
      const who = new Set((res.chunk ?? []).filter((e) => e.content?.membership === 'join' || e.content?.membership === 'invite').map((e) => e.state_key));
      const botIn = who.has(this.botUserId);
      const userIn = who.has(user);
      return { botIn, userIn, others: who.size > Number(botIn) + Number(userIn), encrypted: await this.isEncrypted(roomId) };
    } catch (e) {
      this.log.debug('membership lookup failed', { roomId, error: describeError(e) });
      return null;
    }
  }

  /** Only the bot and `user` are in the room (or invited), and the bot can read it: the only place a link may go. */
  async isPrivateWith(roomId: string, user: string): Promise<boolean> {
    const m = await this.membership(roomId, user);
    return m !== null && m.botIn && m.userIn && !m.others && this.canRead(m);
  }

  /** Encrypted rooms are readable only with end-to-end encryption on. */
  private canRead(m: Membership): boolean {
    return !m.encrypted || this.io.e2ee !== null;
  }

  /** The remembered DM with `user` while it is still just the two of us; else a new one. Null when none can be opened. */
  async open(user: string): Promise<string | null> {
    const known = this.dms.get(user);
    if (known) {
      const m = await this.membership(known, user);
      if (m && m.botIn && !m.others && this.canRead(m)) {
        // They left: ask them back into the same room.
        if (!m.userIn) await this.io.client.inviteUser(user, known).catch(() => undefined);
        return known;
      }
    }
    try {
      // Encrypted like the DMs Element opens when we can read them; else unencrypted on purpose.
      const roomId = await this.io.retrying('create DM', () => this.io.client.createRoom(this.io.e2ee ? {
        preset: 'trusted_private_chat', is_direct: true, invite: [user], name: 'VoIP test',
        topic: `Type ${this.prefix} to test the VoIP setup.`,
        initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
      } : {
        preset: 'trusted_private_chat', is_direct: true, invite: [user], name: DM_NAME,
        topic: `Unencrypted on purpose: the bot cannot read encrypted messages. Type ${this.prefix}.`,
      }), 60_000);
      this.dms.set(user, roomId);
      try {
        this.store?.setSetting('dmRooms', Object.fromEntries(this.dms));
      } catch (e) {
        this.log.warn('could not remember the DM room', { error: describeError(e) });
      }
      await this.io.send(roomId, notice(this.io.e2ee
        ? `Hello! Type ${this.prefix} to test the VoIP setup, or ${this.prefix} help.`
        : `Hello! This room is not encrypted, so I can read it. Type ${this.prefix} to test the VoIP setup, or ${this.prefix} help.`));
      return roomId;
    } catch (e) {
      this.log.error('could not open a DM', { user, error: describeError(e) });
      return null;
    }
  }

  /**
   * Say plainly (unencrypted) that we cannot read this room and open a DM that
   * works, linked as a pill under the name it has; once per room and user per
   * 10 min. Any later message there gets a short pointer (at most one a minute
   * per room), never silence.
   */
  async encryptedNotice(roomId: string, requester: string | null): Promise<void> {
    const user = requester && requester !== this.botUserId ? requester : null;
    if (this.encryptedNotices.take(`${roomId}|${user ?? ''}`)) {
      this.encryptedPointers.mark(roomId);
      const dm = user ? await this.open(user) : null;
      const link = dm ? roomLink(dm, DM_NAME, serverOf(this.botUserId)) : null;
      const intro = 'This room is encrypted and I cannot read encrypted messages (I have no end-to-end encryption).';
      const tail = 'Commands and reports carry no secrets, so an unencrypted room is fine for them.';
      await this.io.send(roomId, notice(
        `${intro}${link ? ` I have invited you to an unencrypted room, ${link.text}, where ${this.prefix} works.` : ''} ${tail}`,
        `<p>${htmlEscape(intro)}${link ? ` I have invited you to an unencrypted room, ${link.html}, where <code>${htmlEscape(this.prefix)}</code> works.` : ''} ${htmlEscape(tail)}</p>`,
      ));
      return;
    }
    if (!this.encryptedPointers.take(roomId)) return;
    const dm = user ? this.dms.get(user) : undefined;
    const link = dm ? roomLink(dm, DM_NAME, serverOf(this.botUserId)) : null;
    const text = `I cannot read this encrypted room. ${link ? `Use ${link.text}` : `Invite me to an unencrypted room`} for ${this.prefix}.`;
    const html = `I cannot read this encrypted room. ${link ? `Use ${link.html}` : 'Invite me to an unencrypted room'} for <code>${htmlEscape(this.prefix)}</code>.`;
    await this.io.send(roomId, notice(text, html));
  }

  /** An encrypted message we hold no key for: say so (encrypted), once per room and sender per 10 min. */
  async undecryptableNotice(roomId: string, sender: string, eventId: string, error: unknown): Promise<void> {
    if (!this.encryptedNotices.take(`undecryptable|${roomId}|${sender}`)) return;
    await this.io.send(roomId, {
      ...notice(undecryptableText(sender, error, this.prefix)),
      'm.relates_to': { 'm.in_reply_to': { event_id: eventId } },
    });
  }
}

/** Why a message could not be decrypted, in words (the decryption error codes of the crypto machine). */
export function undecryptableText(sender: string, error: unknown, prefix: string): string {
  const e = (error ?? {}) as { code?: number; withheld?: string };
  const why = e.withheld
    ? `${sender}'s client withheld the key from my device (${e.withheld.replace(/[^\w.]/g, '').slice(0, 40)})`
    : e.code === 1
      ? 'my copy of its key starts after that message (it was sent before I joined)'
      : 'the key for it did not reach my device (it was sent before I joined, or the sending client has not shared it with me)';
  return `I could not decrypt a message from ${sender}: ${why}. If it was a command, please send it again (for example ${prefix}).`;
}
