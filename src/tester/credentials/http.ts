// Small JSON-over-HTTP helper for homeserver calls: deadline, size cap, typed errors.
// Error bodies are untrusted text: kept short, never echoed with credentials.

export class HttpError extends Error {
  constructor(
    message: string,
    readonly kind: 'http' | 'unreachable' | 'timeout' | 'bad-json' | 'too-large',
    readonly status?: number,
    readonly errcode?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const MAX_BODY = 256 * 1024;

export async function fetchJson(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; json: unknown }> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), init.timeoutMs ?? 10000);
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: ctl.signal,
      // Never follow: a redirect could point the request (and its token) at an internal address.
      redirect: 'manual',
    });
  } catch (e) {
    clearTimeout(timer);
    if (ctl.signal.aborted) throw new HttpError(`${redactUrl(url)}: no answer within ${init.timeoutMs ?? 10000} ms`, 'timeout');
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new HttpError(`${redactUrl(url)}: cannot connect (${cause})`, 'unreachable');
  }
  if (res.status >= 300 && res.status < 400) {
    clearTimeout(timer);
    const to = res.headers.get('location') ?? '';
    let where = 'elsewhere';
    try {
      where = new URL(to, url).host;
    } catch {
      // keep "elsewhere"
    }
    throw new HttpError(`${redactUrl(url)}: HTTP ${res.status} redirect to ${where.slice(0, 100)} (not followed: use the final URL)`, 'http', res.status);
  }
  try {
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > MAX_BODY) throw new HttpError(`${redactUrl(url)}: answer larger than ${MAX_BODY} bytes`, 'too-large', res.status);
    let json: unknown = undefined;
    const text = buf.toString('utf8');
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        if (res.ok) throw new HttpError(`${redactUrl(url)}: answer is not JSON (HTTP ${res.status})`, 'bad-json', res.status);
      }
    }
    if (!res.ok) {
      const body = (json ?? {}) as { errcode?: unknown; retry_after_ms?: unknown };
      const errcode = typeof body.errcode === 'string' ? body.errcode.slice(0, 64) : undefined;
      const retry = typeof body.retry_after_ms === 'number' ? body.retry_after_ms : undefined;
      throw new HttpError(`${redactUrl(url)}: HTTP ${res.status}${errcode ? ` ${errcode}` : ''}`, 'http', res.status, errcode, retry);
    }
    return { status: res.status, json };
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (ctl.signal.aborted) throw new HttpError(`${redactUrl(url)}: no answer within ${init.timeoutMs ?? 10000} ms`, 'timeout');
    throw new HttpError(`${redactUrl(url)}: ${(e as Error).message}`, 'unreachable');
  } finally {
    clearTimeout(timer);
  }
}

/** Drop query strings (access_token=...) from URLs before they go into messages. */
export function redactUrl(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}
