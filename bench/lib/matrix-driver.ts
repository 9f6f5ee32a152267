// Test users for the bot bench: client-server API calls and a /sync long-poll
// that records every timeline event with the wall-clock time we saw it, so
// latencies come from the server's origin_server_ts and from our own clock.
import type { SynapseUser } from '../../scripts/lab/synapse';

export type Ev = {
  type: string;
  sender: string;
  event_id: string;
  origin_server_ts: number;
  content: Record<string, any>;
  unsigned?: Record<string, any>;
};
export interface Seen {
  roomId: string;
  ev: Ev;
  /** Date.now() when our sync delivered it. */
  seenAt: number;
}

let txn = 0;

export async function api(hsUrl: string, u: SynapseUser, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<any> {
  const r = await fetch(`${hsUrl}/_matrix/client/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${u.accessToken.reveal()}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const j = await r.json().catch(() => ({}));
  // Never echo the request (it carries the token in a header only, but keep errors short).
  if (!r.ok) throw new Error(`${method} ${path.split('?')[0]}: HTTP ${r.status} ${j?.errcode ?? ''}`);
  return j;
}

/** Send a text message; returns the event id and the wall clock just before the PUT. */
export async function sendText(hsUrl: string, u: SynapseUser, roomId: string, body: string): Promise<{ eventId: string; sentAt: number }> {
  const sentAt = Date.now();
  const r = await api(hsUrl, u, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b${process.pid}-${++txn}-${sentAt}`, { msgtype: 'm.text', body });
  return { eventId: r.event_id as string, sentAt };
}

const FILTER = JSON.stringify({
  presence: { types: [] },
  account_data: { types: [] },
  room: { timeline: { limit: 100 }, state: { lazy_load_members: true }, ephemeral: { types: [] }, account_data: { types: [] } },
});

/** One user's /sync loop; everything it sees is kept in `seen`. */
export class Watcher {
  readonly seen: Seen[] = [];
  private since: string | null = null;
  private stopped = false;
  private readonly ac = new AbortController();
  private waiters: (() => void)[] = [];
  private loop: Promise<void> | null = null;
  errors = 0;

  constructor(private readonly hsUrl: string, readonly user: SynapseUser) {}

  /** Initial sync (history is kept but predates what we wait for), then long-poll. */
  async start(): Promise<void> {
    await this.once(0);
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.once(30_000);
        } catch {
          if (this.stopped) return;
          this.errors++;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
  }

  private async once(timeout: number): Promise<void> {
    const q = new URLSearchParams({ timeout: String(timeout), filter: FILTER });
    if (this.since) q.set('since', this.since);
    const r = await fetch(`${this.hsUrl}/_matrix/client/v3/sync?${q}`, {
      headers: { authorization: `Bearer ${this.user.accessToken.reveal()}` },
      signal: AbortSignal.any([this.ac.signal, AbortSignal.timeout(timeout + 15_000)]),
    });
    if (!r.ok) throw new Error(`sync: HTTP ${r.status}`);
    const j = (await r.json()) as { next_batch: string; rooms?: { join?: Record<string, { timeline?: { events?: Ev[] } }> } };
    const now = Date.now();
    for (const [roomId, room] of Object.entries(j.rooms?.join ?? {})) {
      for (const ev of room.timeline?.events ?? []) this.seen.push({ roomId, ev, seenAt: now });
    }
    this.since = j.next_batch;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The first recorded event matching `pred` (past or future), or an error at the deadline. */
  async waitFor(what: string, pred: (s: Seen) => boolean, timeoutMs: number): Promise<Seen> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.seen.find(pred);
      if (hit) return hit;
      const left = end - Date.now();
      if (left <= 0 || this.stopped) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ac.abort();
    for (const f of this.waiters) f();
    await this.loop?.catch(() => undefined);
  }
}

/** Event relations the bench reads. */
export const relatesTo = (ev: Ev): { event_id?: string; key?: string; rel_type?: string } => ev.content?.['m.relates_to'] ?? {};
export const replyTo = (ev: Ev): string | undefined => ev.content?.['m.relates_to']?.['m.in_reply_to']?.event_id;
