// A test user's view of a real homeserver over the client-server API: send,
// read back, and wait for the bot's answers. Shared by the bot's integration tests.
import type { SynapseUser } from '../../scripts/lab/synapse';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ev = { type: string; sender: string; event_id: string; content: Record<string, any>; state_key?: string; redacts?: string; unsigned?: Record<string, any> };

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** url and botUserId are read lazily: the lab starts after the test module loads. */
export function matrixTestClient(url: () => string, botUserId: () => string, txnPrefix = 't') {
  let txn = 0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function api(u: SynapseUser, method: string, path: string, body?: unknown): Promise<any> {
    const r = await fetch(`${url()}/_matrix/client/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${u.accessToken.reveal()}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  }
  const send = (u: SynapseUser, roomId: string, body: string, extra: Record<string, unknown> = {}) =>
    api(u, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnPrefix}${Date.now()}-${++txn}`, { msgtype: 'm.text', body, ...extra }).then((r) => r.event_id as string);
  async function events(u: SynapseUser, roomId: string): Promise<Ev[]> {
    const r = await api(u, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`);
    return (r.chunk as Ev[]).reverse();
  }
  /** The bot's first message in the room after `afterEventId` (null: any) whose body matches `re`. */
  function botNotice(u: SynapseUser, roomId: string, afterEventId: string | null, re: RegExp, timeoutMs = 30_000): Promise<Ev> {
    return waitFor(`bot notice ${re}`, async () => {
      const evs = await events(u, roomId);
      const i = afterEventId ? evs.findIndex((e) => e.event_id === afterEventId) : -1;
      return evs.slice(i + 1).find((e) => e.sender === botUserId() && e.type === 'm.room.message' && re.test(String(e.content.body)));
    }, timeoutMs);
  }
  return { api, send, events, botNotice };
}
