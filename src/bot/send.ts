// Sending with retries: a 429 waits what the server asked (matrix-bot-sdk
// does not), a network error or 5xx (homeserver restarting) backs off and
// tries again until a deadline. Other errors are final.
export interface RetryOptions {
  deadlineMs: number;
  /** Max single wait (caps a huge retry_after_ms). */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  isStopping?: () => boolean;
}

export class SendFailedError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'SendFailedError';
  }
}

interface ErrShape { statusCode?: number; errcode?: string; retryAfterMs?: number; code?: string; body?: { errcode?: string; retry_after_ms?: number } }

/** How long to wait before retrying, or null when the error is final. */
export function retryDelay(e: unknown, attempt: number): number | null {
  const x = (e ?? {}) as ErrShape;
  const errcode = x.errcode ?? x.body?.errcode;
  if (x.statusCode === 429 || errcode === 'M_LIMIT_EXCEEDED') return x.retryAfterMs ?? x.body?.retry_after_ms ?? 1000 * 2 ** Math.min(attempt, 4);
  const backoff = Math.min(500 * 2 ** attempt, 8000);
  if (x.statusCode !== undefined && x.statusCode >= 500) return backoff;
  if (x.statusCode === undefined && (x.code === 'ECONNREFUSED' || x.code === 'ECONNRESET' || x.code === 'ETIMEDOUT' || x.code === 'EPIPE' || x.code === 'UND_ERR_SOCKET' || /socket hang up|ECONNREFUSED|ECONNRESET/.test(String((e as Error)?.message)))) return backoff;
  return null;
}

export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const end = Date.now() + opts.deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const wait = retryDelay(e, attempt);
      if (wait === null) throw new SendFailedError(`${what} failed: ${describeError(e)}`, e);
      const ms = Math.min(wait, opts.maxWaitMs ?? 30000);
      if (Date.now() + ms > end || opts.isStopping?.()) throw new SendFailedError(`${what} failed after retrying: ${describeError(e)}`, e);
      await sleep(ms);
    }
  }
}

export function describeError(e: unknown): string {
  const x = (e ?? {}) as ErrShape & { message?: string };
  const errcode = x.errcode ?? x.body?.errcode;
  if (errcode) return `${x.statusCode ?? ''} ${errcode}`.trim();
  if (x.code) return x.code;
  return String(x.message ?? e).slice(0, 200);
}
