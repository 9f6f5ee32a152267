// The encrypted-room fallback's timing logic: the full notice (with the new
// room as a named matrix.to link) once per room and user per 10 min, then a
// short pointer at most once a minute, never silence for longer. The Matrix
// side is a recorder of what would be sent (the real exchange is in
// test/integration/bot.test.ts).
import { DirectRooms } from '../../src/bot/direct-rooms';
import type { BotIo } from '../../src/bot/io';
import type { Logger } from '../../src/ops/log';
import type { HistoryStore } from '../../src/store';

function rig() {
  const sent: { roomId: string; body: string; html: string }[] = [];
  const client = {
    // The remembered DM is still just the two of us, unencrypted.
    doRequest: async () => ({ chunk: [{ state_key: '@bot:hs', content: { membership: 'join' } }, { state_key: '@u:hs', content: { membership: 'join' } }] }),
    getRoomStateEvent: async (roomId: string) => {
      if (roomId === '!dm') throw new Error('M_NOT_FOUND');
      return { algorithm: 'm.megolm.v1.aes-sha2' };
    },
  };
  const io = {
    client,
    retrying: <T>(_w: string, fn: () => Promise<T>) => fn(),
    send: async (roomId: string, c: { body: string; formatted_body?: string }) => {
      sent.push({ roomId, body: c.body, html: c.formatted_body ?? '' });
      return `$${sent.length}`;
    },
  } as unknown as BotIo;
  const store = { getSetting: () => ({ '@u:hs': '!dm' }), setSetting: () => undefined } as unknown as HistoryStore;
  const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
  return { sent, rooms: new DirectRooms(io, '@bot:hs', '!voiptest', store, log) };
}

test('full notice with a named link, then pointers at most once a minute', async () => {
  jest.useFakeTimers({ now: new Date('2026-01-01T08:00:00Z') });
  try {
    const { sent, rooms } = rig();
    await rooms.encryptedNotice('!enc', '@u:hs');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.html).toContain('<a href="https://matrix.to/#/!dm?via=hs">VoIP test (unencrypted)</a>');
    expect(sent[0]!.body).toContain('"VoIP test (unencrypted)" (https://matrix.to/#/!dm?via=hs)');
    await rooms.encryptedNotice('!enc', '@u:hs'); // within the minute: nothing new
    expect(sent).toHaveLength(1);
    jest.setSystemTime(new Date('2026-01-01T08:01:01Z'));
    await rooms.encryptedNotice('!enc', '@u:hs');
    expect(sent).toHaveLength(2);
    expect(sent[1]!.body).toBe('I cannot read this encrypted room. Use "VoIP test (unencrypted)" (https://matrix.to/#/!dm?via=hs) for !voiptest.');
    await rooms.encryptedNotice('!enc', '@u:hs');
    expect(sent).toHaveLength(2);
    jest.setSystemTime(new Date('2026-01-01T08:02:02Z'));
    await rooms.encryptedNotice('!enc', '@u:hs');
    expect(sent).toHaveLength(3);
    jest.setSystemTime(new Date('2026-01-01T08:10:03Z')); // the full notice again after 10 min
    await rooms.encryptedNotice('!enc', '@u:hs');
    expect(sent[3]!.body).toMatch(/^This room is encrypted/);
  } finally {
    jest.useRealTimers();
  }
});
