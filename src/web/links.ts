// One-time helper links: a random 32-byte token (base64url) bound to the
// (user, room) that asked, expiring (default 15 min). The token is the only
// way into the helper. It serves the steps of ONE browser session: the first
// page load claims it with a session key (an HttpOnly cookie), then it is
// spent when that session consents, or ends. Only a hash of the token is
// kept, so a memory dump or a log line cannot replay a link.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEFAULT_LINK_TTL_MS = 15 * 60 * 1000;
/** base64url of 32 bytes. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type LinkState = 'issued' | 'claimed' | 'spent';

export interface Link {
  /** sha256(token), hex: the map key and the only form kept. */
  id: string;
  userId: string;
  roomId: string;
  createdAt: number;
  expiresAt: number;
  state: LinkState;
  /** sha256 of the session key of the browser that claimed it. */
  sessionHash: string | null;
}

export type LinkLookup = { ok: true; link: Link } | { ok: false; reason: 'unknown' | 'expired' | 'spent' };

export interface LinkStoreOptions {
  ttlMs?: number;
  /** Outstanding links kept at most (oldest dropped first): bounds memory under a flood. */
  maxLinks?: number;
  now?: () => number;
  /** How the URL of a token is made (the service knows its public base URL). */
  urlFor?: (token: string) => string;
}

const hash = (s: string): string => createHash('sha256').update(s).digest('hex');

export class LinkStore {
  readonly #links = new Map<string, Link>();
  readonly #ttlMs: number;
  readonly #maxLinks: number;
  readonly #now: () => number;
  readonly #urlFor: (token: string) => string;

  constructor(opts: LinkStoreOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? DEFAULT_LINK_TTL_MS;
    this.#maxLinks = opts.maxLinks ?? 1000;
    this.#now = opts.now ?? Date.now;
    this.#urlFor = opts.urlFor ?? ((t) => `/helper/${t}`);
  }

  get size(): number {
    return this.#links.size;
  }

  /** Issue a link for (userId, roomId). The token appears only in the returned URL. */
  createLink(userId: string, roomId: string): { url: string; token: string; expiresAt: Date } {
    this.sweep();
    while (this.#links.size >= this.#maxLinks) this.#links.delete(this.#links.keys().next().value as string);
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    const link: Link = { id: hash(token), userId, roomId, createdAt: now, expiresAt: now + this.#ttlMs, state: 'issued', sessionHash: null };
    this.#links.set(link.id, link);
    return { url: this.#urlFor(token), token, expiresAt: new Date(link.expiresAt) };
  }

  /** Find a live link. Expired links answer 'expired' until swept (a clear page beats "unknown"). */
  lookup(token: string): LinkLookup {
    if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'unknown' };
    const link = this.#links.get(hash(token));
    if (!link) return { ok: false, reason: 'unknown' };
    if (this.#now() >= link.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, link };
  }

  /**
   * The page load: the first one claims the link and gets a fresh session key;
   * a reload from the same browser (same key) is the same session; another
   * browser, or any load after the link was spent without the key, is refused.
   */
  claim(token: string, sessionKey: string | null): { ok: true; link: Link; newKey: string | null } | { ok: false; reason: 'unknown' | 'expired' | 'spent' | 'claimed' } {
    const found = this.lookup(token);
    if (!found.ok) return found;
    const link = found.link;
    if (link.sessionHash !== null) {
      if (sessionKey !== null && this.sessionMatches(link, sessionKey)) return { ok: true, link, newKey: null };
      return { ok: false, reason: link.state === 'spent' ? 'spent' : 'claimed' };
    }
    const key = randomBytes(24).toString('base64url');
    link.sessionHash = hash(key);
    link.state = 'claimed';
    return { ok: true, link, newKey: key };
  }

  sessionMatches(link: Link, sessionKey: string | null): boolean {
    if (link.sessionHash === null || sessionKey === null || sessionKey.length > 200) return false;
    return timingSafeEqual(Buffer.from(link.sessionHash, 'hex'), Buffer.from(hash(sessionKey), 'hex'));
  }

  /** The session consented (or ended): no second run from this link. */
  spend(link: Link): void {
    link.state = 'spent';
  }

  /** Keep a link readable (results page) a little after its expiry, e.g. while its run finishes. */
  extend(link: Link, untilMs: number): void {
    link.expiresAt = Math.max(link.expiresAt, untilMs);
  }

  sweep(): void {
    const now = this.#now();
    // Expired links stay one more TTL so a late click still gets "expired", not "unknown".
    for (const [id, l] of this.#links) if (now >= l.expiresAt + this.#ttlMs) this.#links.delete(id);
  }
}
