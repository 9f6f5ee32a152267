// The bot's Matrix client with end-to-end encryption when it can start (a
// device with a usable store, the wasm crypto, keys the server accepts), and
// without it otherwise: then the reason is logged once and the bot behaves as
// before (plain notice in encrypted rooms + an unencrypted DM).
import { MatrixClient, type IStorageProvider } from 'matrix-bot-sdk';
import type { OlmMachine } from '@matrix-org/matrix-sdk-crypto-nodejs';
import type { BotConfig } from '../../config';
import type { Logger } from '../../ops/log';
import { describeError, withRetry } from '../send';
import type { Session } from '../session';
import { ensureCrossSigning, type CrossSigningResult } from './cross-signing';
import { RoomCryptoStore } from './room-store';
import { trackWithoutStall, type TrackingEngine } from './tracking';
import { cryptoDir, deviceHasKeys, discardStore, hasSavedStore, newDevice, removeDevice, storeDeviceId } from './device';

export interface E2ee {
  readonly deviceId: string;
  readonly crossSigning: CrossSigningResult | 'failed';
  /** Whether the crypto client treats the room as encrypted (what sendEvent encrypts). */
  isEncrypted(roomId: string): Promise<boolean>;
  /** AES-CTR-encrypt a file for an encrypted room: the bytes to upload and the `file` info (without url). */
  encryptFile(data: Buffer): Promise<{ buffer: Buffer; file: Record<string, unknown> }>;
  /** Save the store and free the machine. */
  close(): Promise<void>;
}

export interface Connected {
  client: MatrixClient;
  /** The session in use: a new device when the old one's keys were lost and a password allowed a fresh login. */
  session: Session;
  e2ee: E2ee | null;
}

export interface ConnectOptions {
  config: BotConfig;
  session: Session;
  storage: IStorageProvider;
  log: Logger;
  isStopping: () => boolean;
}

const OFF = 'end-to-end encryption is off: encrypted rooms get a plain notice and an unencrypted DM';

interface Engine { machine?: OlmMachine; lock: { acquire<T>(key: string, fn: () => Promise<T>): Promise<T> } }

/** matrix-bot-sdk keeps its engine private; the machine is our adapter's OlmMachine. */
function engineOf(client: MatrixClient): Engine | undefined {
  return (client.crypto as unknown as { engine?: Engine } | undefined)?.engine;
}

function machineOf(client: MatrixClient): OlmMachine | undefined {
  return engineOf(client)?.machine;
}

function plainClient(o: ConnectOptions, session: Session): MatrixClient {
  return new MatrixClient(o.config.homeserver.url, session.accessToken.reveal(), o.storage);
}

export async function connect(o: ConnectOptions): Promise<Connected> {
  const { config: c, log } = o;
  let session = o.session;
  const off = (reason: string, fix?: string): Connected => {
    log.error(OFF, { reason, ...(fix ? { fix } : {}) });
    return { client: plainClient(o, session), session, e2ee: null };
  };
  if (!c.encryption.enabled) return { client: plainClient(o, session), session, e2ee: null };
  if (!session.deviceId) return off('the access token has no device id', 'log the bot in with a password, or use a token made by a login');
  const retry = <T>(what: string, fn: () => Promise<T>) => withRetry(what, fn, { deadlineMs: 120_000, isStopping: o.isStopping });
  const dir = cryptoDir(c.dataDir);
  let leftDevice: string | null = null;
  try {
    const storedFor = storeDeviceId(dir);
    if (storedFor && storedFor !== session.deviceId) {
      // Keys of a device we no longer log in as: of no use to this one.
      log.info('the crypto store belongs to another device; starting a new one', { storeDevice: storedFor, deviceId: session.deviceId });
      discardStore(dir);
      leftDevice = storedFor;
    }
    if (!hasSavedStore(dir)) {
      const probe = plainClient(o, session);
      if (await retry('key query', () => deviceHasKeys(probe, session.userId, session.deviceId!))) {
        // The server has keys for this device that no store of ours holds: it cannot encrypt again.
        if (!c.homeserver.password) {
          return off(`device ${session.deviceId} already has encryption keys from a crypto store that is gone (${dir})`,
            'give the bot an access token of a new device, or a password so it can replace the device itself');
        }
        leftDevice = session.deviceId;
        session = await retry('login (new device)', () => newDevice(c, session));
        discardStore(dir);
        log.info('logged in as a new device (the old one had lost its keys)', { deviceId: session.deviceId, oldDeviceId: leftDevice });
      }
    }
  } catch (e) {
    return off(`the crypto store could not be checked: ${describeError(e)}`);
  }
  const cryptoStore = new RoomCryptoStore(dir);
  await cryptoStore.setDeviceId(session.deviceId!);
  const client = new MatrixClient(c.homeserver.url, session.accessToken.reveal(), o.storage, cryptoStore);
  cryptoStore.watch(client);
  try {
    const rooms = await retry('joined rooms', () => client.getJoinedRooms());
    await retry('start encryption', async () => {
      await machineOf(client)?.close(); // a retried prepare builds a new machine on the same store
      await client.crypto.prepare(rooms);
    });
  } catch (e) {
    await machineOf(client)?.close().catch(() => undefined);
    const cause = (e as { cause?: unknown }).cause ?? e;
    const reason = (cause as { name?: string }).name === 'CryptoUnavailableError' ? (cause as Error).message : `the homeserver refused our keys (${describeError(cause)})`;
    return off(reason, (cause as { reason?: string }).reason === 'store' ? `move ${dir} away to start over with a new device` : undefined);
  }
  trackWithoutStall(engineOf(client) as unknown as TrackingEngine);
  // Room keys must be stored before the sync that carried them is acknowledged.
  (client as unknown as { persistTokenAfterSync: boolean }).persistTokenAfterSync = true;
  const machine = machineOf(client)!;
  if (leftDevice && leftDevice !== session.deviceId) {
    if (c.homeserver.password) await removeDevice(client, c, session.userId, leftDevice, log);
    else log.warn('an old device of the bot account remains; remove it in a client\'s session list', { deviceId: leftDevice });
  }
  let crossSigning: E2ee['crossSigning'];
  try {
    crossSigning = await ensureCrossSigning(client, machine, dir, session.userId, c.homeserver.password);
  } catch (e) {
    crossSigning = 'failed';
    log.warn('cross-signing could not be set up; the bot\'s messages show as from an unverified device', { error: describeError(e) });
  }
  if (crossSigning === 'needs-password') log.warn('cross-signing needs the account password (homeserver.password): the bot\'s messages show as from an unverified device');
  log.info('end-to-end encryption on', { deviceId: session.deviceId, crossSigning, savedStore: machine.fromSavedStore });
  const e2ee: E2ee = {
    deviceId: session.deviceId!,
    crossSigning,
    isEncrypted: (roomId) => client.crypto.isRoomEncrypted(roomId),
    encryptFile: async (data) => {
      const r = await client.crypto.encryptMedia(data);
      return { buffer: r.buffer, file: r.file as unknown as Record<string, unknown> };
    },
    // Under matrix-bot-sdk's sync lock: a sync being processed finishes (and is saved) first.
    close: () => engineOf(client)!.lock.acquire('sync', () => machine.close()),
  };
  return { client, session, e2ee };
}
