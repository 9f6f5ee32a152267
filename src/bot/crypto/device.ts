// The bot's own device and its crypto store: whether the server already holds
// keys for it (made by a store we no longer have), replacing such a device by
// a fresh login when a password allows it, and removing a device we left.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MatrixClient } from 'matrix-bot-sdk';
import type { BotConfig } from '../../config';
import type { Logger } from '../../ops/log';
import { registerSecretValue } from '../../ops/redact';
import { Secret } from '../../tester/secret';
import { describeError } from '../send';
import { rememberDevice, type Session } from '../session';
import { withPasswordAuth } from './uia';

const SNAPSHOT_FILE = 'olm-store.bin';
const SDK_STATE_FILE = 'bot-sdk.json';

export function cryptoDir(dataDir: string): string {
  return join(dataDir, 'crypto');
}

export function hasSavedStore(dir: string): boolean {
  return existsSync(join(dir, SNAPSHOT_FILE));
}

/** Whether the homeserver has device keys for userId's deviceId. */
export async function deviceHasKeys(client: MatrixClient, userId: string, deviceId: string): Promise<boolean> {
  const q = await client.doRequest('POST', '/_matrix/client/v3/keys/query', null, { device_keys: { [userId]: [deviceId] } }) as { device_keys?: Record<string, Record<string, unknown>> };
  return Boolean(q.device_keys?.[userId]?.[deviceId]);
}

/** Forget a crypto store (it belongs to a device we no longer use, or has none of its keys). */
export function discardStore(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Log in again as a new device (password accounts only). */
export async function newDevice(config: BotConfig, session: Session): Promise<Session> {
  const anon = new MatrixClient(config.homeserver.url, '');
  const res = await anon.doRequest('POST', '/_matrix/client/v3/login', null, {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: session.userId },
    password: config.homeserver.password!.reveal(), initial_device_display_name: 'mx-voiptest bot',
  }) as { user_id: string; device_id: string; access_token: string };
  const next: Session = { userId: res.user_id, deviceId: res.device_id, accessToken: new Secret(res.access_token) };
  registerSecretValue(next.accessToken);
  rememberDevice(config.dataDir, { userId: next.userId, deviceId: next.deviceId ?? undefined });
  return next;
}

/** Delete one of our devices (needs the password); false when it cannot be done. */
export async function removeDevice(client: MatrixClient, config: BotConfig, userId: string, deviceId: string, log: Logger): Promise<boolean> {
  try {
    await withPasswordAuth(client, 'DELETE', `/_matrix/client/v3/devices/${encodeURIComponent(deviceId)}`, {}, userId, config.homeserver.password);
    log.info('removed an old device of the bot account', { deviceId });
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return true;
    log.warn('could not remove an old device of the bot account', { deviceId, error: describeError(e) });
    return false;
  }
}

/** The device the saved store was made for (matrix-bot-sdk keeps it beside the store), if any. */
export function storeDeviceId(dir: string): string | null {
  try {
    const j = JSON.parse(readFileSync(join(dir, SDK_STATE_FILE), 'utf8')) as { deviceId?: unknown };
    return typeof j.deviceId === 'string' ? j.deviceId : null;
  } catch {
    return null;
  }
}
