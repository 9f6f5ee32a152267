// HTTP plumbing of the helper: security headers, size-capped JSON bodies with a
// deadline, same-origin checks, a per-key rate limit, cookies. node:http only:
// five routes do not need a framework, and fewer dependencies is less to audit.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpFail extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'HttpFail';
  }
}

export interface CspOptions {
  /** Extra connect-src sources: the page talks to the user's homeserver (default https: only). */
  connectSrc: string[];
}

export function csp(o: CspOptions): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ${o.connectSrc.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** On every answer: nothing cached, nothing sniffed, no referrer (the token is in our URLs), no framing. */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string | string[]> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string | string[]> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), extra);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { ok: false, error: { code, message } });
}

/** Read a JSON body: application/json only (a form post cannot be one), at most maxBytes, within timeoutMs. */
export function readJson(req: IncomingMessage, maxBytes: number, timeoutMs = 10000): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return Promise.reject(new HttpFail(415, 'content-type', 'Send application/json.'));
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(new HttpFail(413, 'too-large', 'The request body is too large.'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (err: HttpFail | null, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.removeAllListeners('data');
        req.resume(); // drain, so the answer can still be written
        reject(err);
      } else resolve(value);
    };
    const timer = setTimeout(() => done(new HttpFail(408, 'timeout', 'The request body took too long.')), timeoutMs);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) return done(new HttpFail(413, 'too-large', 'The request body is too large.'));
      chunks.push(c);
    });
    req.on('error', () => done(new HttpFail(400, 'aborted', 'The request was aborted.')));
    req.on('end', () => {
      try {
        done(null, JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        done(new HttpFail(400, 'bad-json', 'The body is not valid JSON.'));
      }
    });
  });
}

/**
 * CSRF and cross-origin fence for state-changing requests: a browser always
 * sends Origin on a POST from a page; it must be ours. A cross-site fetch
 * metadata header is refused too. We never send Access-Control-Allow-Origin.
 */
export function checkOrigin(req: IncomingMessage, allowedOrigins: readonly string[], requireOrigin: boolean): void {
  const origin = req.headers.origin;
  if (origin === undefined) {
    if (requireOrigin) throw new HttpFail(403, 'origin', 'Requests must come from the helper page.');
  } else if (!allowedOrigins.includes(origin)) {
    throw new HttpFail(403, 'origin', 'Requests from other sites are refused.');
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpFail(403, 'origin', 'Requests from other sites are refused.');
}

/** Token bucket per key (per link): `burst` at once, refilling `perMinute`. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): boolean {
    const now = this.now();
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 60000) * this.perMinute);
    b.at = now;
    this.#buckets.set(key, b);
    if (this.#buckets.size > 10000) this.#buckets.delete(this.#buckets.keys().next().value as string);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(key: string): void {
    this.#buckets.delete(key);
  }
}

export function readCookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

export function cookie(name: string, value: string, opts: { path: string; maxAgeS: number; secure: boolean }): string {
  return `${name}=${value}; Path=${opts.path}; Max-Age=${Math.max(0, Math.floor(opts.maxAgeS))}; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}`;
}
