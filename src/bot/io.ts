// The bot's outgoing Matrix calls: send, react, files, with retries whose
// deadline shrinks to a few seconds once the bot is stopping. In encrypted
// rooms the client encrypts events and sendFile encrypts the file.
import type { MatrixClient } from 'matrix-bot-sdk';
import type { Logger } from '../ops/log';
import { fileMessage, type FileToSend } from './crypto/attachment';
import type { E2ee } from './crypto/setup';
import type { MessageContent } from './message';
import { describeError, withRetry } from './send';

export class BotIo {
  constructor(readonly client: MatrixClient, private readonly log: Logger, private readonly isStopping: () => boolean, readonly e2ee: E2ee | null = null) {}

  retrying<T>(what: string, fn: () => Promise<T>, deadlineMs = 300_000): Promise<T> {
    return withRetry(what, fn, { deadlineMs: this.isStopping() ? 5000 : deadlineMs, isStopping: this.isStopping });
  }

  send(roomId: string, content: MessageContent | Record<string, unknown>): Promise<string> {
    return this.retrying('send', () => this.client.sendEvent(roomId, 'm.room.message', content));
  }

  /**
   * Send with a fixed transaction id: the homeserver stores one event per id,
   * however often this is retried or repeated after a restart. Encrypted rooms
   * the same way the client's sendEvent does it (the type is then m.room.encrypted).
   */
  sendOnce(roomId: string, content: MessageContent | Record<string, unknown>, txnId: string): Promise<string> {
    return this.retrying('send', async () => {
      let type = 'm.room.message';
      let body: unknown = content;
      const crypto = this.client.crypto;
      if (crypto && (await crypto.isRoomEncrypted(roomId))) {
        body = await crypto.encryptRoomEvent(roomId, type, content);
        type = 'm.room.encrypted';
      }
      const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${type}/${encodeURIComponent(txnId)}`;
      return ((await this.client.doRequest('PUT', path, null, body)) as { event_id: string }).event_id;
    });
  }

  async sendFile(roomId: string, f: FileToSend): Promise<string> {
    const content = await fileMessage(this.e2ee, roomId, f, (data, type) => this.retrying('upload', () => this.client.uploadContent(data, type, f.name), 60_000));
    return this.send(roomId, content);
  }

  /** An annotation on `eventId`; null (logged) when it cannot be sent. */
  async react(roomId: string, eventId: string, key: string): Promise<string | null> {
    try {
      return await this.retrying('react', () => this.client.sendEvent(roomId, 'm.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key } }), 30_000);
    } catch (e) {
      this.log.warn('reaction failed', { roomId, error: describeError(e) });
      return null;
    }
  }

  async unreact(roomId: string, reactionId: string): Promise<void> {
    await this.retrying('redact', () => this.client.redactEvent(roomId, reactionId), 30_000).catch((err) => this.log.warn('redact failed', { error: describeError(err) }));
  }
}
