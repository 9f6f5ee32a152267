// Small JSON-over-HTTP helper for homeserver calls: deadline, size cap, typed errors.
// Error bodies are untrusted text: kept short, never echoed with credentials.
//
// Built on node:http(s) rather than fetch for two reasons: the address check
// runs inside the connection's own DNS lookup (a name cannot resolve to a
// public address for the guard and to 127.0.0.1 for the connection: DNS
// rebinding), and the body cap stops reading at the cap instead of buffering
// whatever a hostile server sends.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

export class HttpError extends Error {
  constructor(
    message: string,
    readonly kind: 'http' | 'unreachable' | 'timeout' | 'bad-json' | 'too-large' | 'refused',
    readonly status?: number,
    readonly errcode?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Returns why an address may not be connected to, or null when it may. */
export type AddressCheck = (ip: string) => string | null;

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
  /** Checked against every address the host resolves to, at connect time. */
  checkAddress?: AddressCheck;
}

const MAX_BODY = 256 * 1024;

class RefusedAddress extends Error {
  readonly code = 'ETARGETREFUSED';
}

function guardedLookup(check: AddressCheck): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addrs: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      for (const a of addrs) {
        const why = check(a.address);
        if (why) return callback(new RefusedAddress(`${hostname} resolves to ${a.address}: ${why}`), '', 0);
      }
      if (addrs.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      // net calls with all:true when it races families (autoSelectFamily), else wants one address.
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addrs);
      else callback(null, addrs[0].address, addrs[0].family);
    });
  };
}

export async function fetchJson(url: string, init: FetchInit = {}): Promise<{ status: number; json: unknown; headers?: http.IncomingHttpHeaders }> {
  const timeoutMs = init.timeoutMs ?? 10000;
  const where = redactUrl(url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HttpError(`"${where.slice(0, 100)}" is not a valid URL`, 'refused');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HttpError(`${where}: only http and https are used`, 'refused');
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (init.checkAddress && isIP(literal)) {
    const why = init.checkAddress(literal);
    if (why) throw new HttpError(why, 'refused');
  }
  const payload = init.body !== undefined ? Buffer.from(JSON.stringify(init.body)) : undefined;
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    ...init.headers,
  };
  const mod = u.protocol === 'https:' ? https : http;

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (e: HttpError | null, v?: { status: number; json: unknown; headers?: http.IncomingHttpHeaders }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(v!);
    };
    // Redirects are never followed (node:http does not): one could aim the token at an internal address.
    const req = mod.request(u, {
      method: init.method ?? 'GET',
      headers,
      agent: false,
      ...(init.checkAddress ? { lookup: guardedLookup(init.checkAddress) } : {}),
    });
    const timer = setTimeout(() => finish(new HttpError(`${where}: no answer within ${timeoutMs} ms`, 'timeout')), timeoutMs);
    req.on('error', (e: Error & { code?: string }) => {
      // The guard's words only: the verdict is about the host, not this one URL.
      if (e instanceof RefusedAddress) finish(new HttpError(e.message, 'refused'));
      else finish(new HttpError(`${where}: cannot connect (${e.code ?? e.message})`, 'unreachable'));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        let to = 'elsewhere';
        try {
          to = new URL(String(res.headers.location ?? ''), url).host || to;
        } catch {
          // keep "elsewhere"
        }
        res.resume();
        finish(new HttpError(`${where}: HTTP ${status} redirect to ${to.slice(0, 100)} (not followed: use the final URL)`, 'http', status));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) return finish(new HttpError(`${where}: answer larger than ${MAX_BODY} bytes`, 'too-large', status));
        chunks.push(c);
      });
      res.on('error', (e) => finish(new HttpError(`${where}: ${e.message}`, 'unreachable')));
      res.on('end', () => {
        try {
          finish(null, { ...judgeBody(where, status, Buffer.concat(chunks).toString('utf8')), headers: res.headers });
        } catch (e) {
          finish(e as HttpError);
        }
      });
    });
    req.end(payload);
  });
}

function judgeBody(where: string, status: number, text: string): { status: number; json: unknown } {
  const ok = status >= 200 && status < 300;
  let json: unknown = undefined;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      if (ok) throw new HttpError(`${where}: answer is not JSON (HTTP ${status})`, 'bad-json', status);
    }
  }
  if (!ok) {
    const body = (json ?? {}) as { errcode?: unknown; retry_after_ms?: unknown };
    const errcode = typeof body.errcode === 'string' ? body.errcode.slice(0, 64) : undefined;
    const retry = typeof body.retry_after_ms === 'number' ? body.retry_after_ms : undefined;
    throw new HttpError(`${where}: HTTP ${status}${errcode ? ` ${errcode}` : ''}`, 'http', status, errcode, retry);
  }
  return { status, json };
}

/** Drop query strings (access_token=...) from URLs before they go into messages. */
export function redactUrl(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}
