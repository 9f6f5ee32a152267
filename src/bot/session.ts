// Logging in: an access token (checked with whoami), or a password login that
// reuses the device id kept in the data dir, so restarts don't pile up devices.
// The token itself is never written to disk by us.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BotConfig } from '../config';
import { Secret } from '../tester/secret';
import { withRetry } from './send';

export interface Session {
  userId: string;
  deviceId: string | null;
  accessToken: Secret;
}

interface Persisted { userId?: string; deviceId?: string }

function sessionFile(dataDir: string): string {
  return join(dataDir, 'session.json');
}

export function readPersisted(dataDir: string): Persisted {
  try {
    return JSON.parse(readFileSync(sessionFile(dataDir), 'utf8')) as Persisted;
  } catch {
    return {};
  }
}

/** Remember which device this data dir belongs to (restarts log in to it again). */
export function rememberDevice(dataDir: string, p: Persisted): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(sessionFile(dataDir), `${JSON.stringify(p, null, 2)}\n`, { mode: 0o600 });
}

export class LoginError extends Error {
  override name = 'LoginError';
}

async function call(url: string, init: { method: string; token?: Secret; body?: unknown }): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: init.method,
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token.reveal()}` } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(15000),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const err = Object.assign(new Error(`HTTP ${res.status} ${String(json.errcode ?? '')}`), {
      statusCode: res.status, errcode: json.errcode as string | undefined, retryAfterMs: json.retry_after_ms as number | undefined,
    });
    throw err;
  }
  return json;
}

/** Log in (retrying while the homeserver is unreachable, up to deadlineMs). */
export async function login(config: BotConfig, deadlineMs = 120_000): Promise<Session> {
  const base = config.homeserver.url;
  const saved = readPersisted(config.dataDir);
  const retry = <T>(what: string, fn: () => Promise<T>) => withRetry(what, fn, { deadlineMs });
  if (config.homeserver.accessToken) {
    const token = config.homeserver.accessToken;
    let who: Record<string, unknown>;
    try {
      who = await retry('whoami', () => call(`${base}/_matrix/client/v3/account/whoami`, { method: 'GET', token }));
    } catch (e) {
      throw new LoginError(`the access token was not accepted by ${base} (${(e as Error).message})`);
    }
    const session = { userId: String(who.user_id), deviceId: typeof who.device_id === 'string' ? who.device_id : null, accessToken: token };
    rememberDevice(config.dataDir, { userId: session.userId, deviceId: session.deviceId ?? undefined });
    return session;
  }
  const userId = config.homeserver.userId!;
  const deviceId = config.homeserver.deviceId ?? (saved.userId === userId ? saved.deviceId : undefined);
  let res: Record<string, unknown>;
  try {
    res = await retry('login', () => call(`${base}/_matrix/client/v3/login`, {
      method: 'POST',
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: userId },
        password: config.homeserver.password!.reveal(),
        ...(deviceId ? { device_id: deviceId } : {}),
        initial_device_display_name: 'mx-voiptest bot',
      },
    }));
  } catch (e) {
    throw new LoginError(`password login as ${userId} failed (${(e as Error).message})`);
  }
  const session = { userId: String(res.user_id), deviceId: String(res.device_id), accessToken: new Secret(String(res.access_token)) };
  rememberDevice(config.dataDir, { userId: session.userId, deviceId: session.deviceId });
  return session;
}
