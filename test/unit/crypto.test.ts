// The wasm-backed crypto binding (stubs/matrix-sdk-crypto-nodejs) and the
// bot's crypto helpers: the store survives a restart (published keys stay
// published), a corrupt store is refused clearly, signatures and attachments
// come back in the shapes matrix-bot-sdk reads, file messages, the room cache,
// and the undecryptable-message wording.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attachment, CryptoUnavailableError, DeviceId, OlmMachine, RequestType, UserId } from '@matrix-org/matrix-sdk-crypto-nodejs';
import { fileMessage } from '../../src/bot/crypto/attachment';
import { RoomCryptoStore } from '../../src/bot/crypto/room-store';
import type { E2ee } from '../../src/bot/crypto/setup';
import { undecryptableText } from '../../src/bot/direct-rooms';

jest.setTimeout(30_000);

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'mxv-crypto-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const USER = '@bot:example.org';
const open = (d = dir, device = 'DEV1') => OlmMachine.initialize(new UserId(USER), new DeviceId(device), d, '', 1);

describe('crypto binding on matrix-sdk-crypto-wasm', () => {
  test('the store is saved: after a restart the identity is the same and published keys are not uploaded again', async () => {
    const m = await open();
    expect(m.fromSavedStore).toBe(false);
    const reqs = await m.outgoingRequests();
    const upload = reqs.find((r) => r.type === RequestType.KeysUpload)!;
    const body = JSON.parse(upload.body);
    expect(Object.keys(body)).toEqual(expect.arrayContaining(['device_keys', 'one_time_keys']));
    expect(body.device_keys.device_id).toBe('DEV1');
    const ed = m.identityKeys.ed25519.toBase64();
    await m.markRequestAsSent(upload.id, upload.type, JSON.stringify({ one_time_key_counts: { signed_curve25519: Object.keys(body.one_time_keys).length } }));
    await m.close();

    const again = await open();
    expect(again.fromSavedStore).toBe(true);
    expect(again.identityKeys.ed25519.toBase64()).toBe(ed);
    expect((await again.outgoingRequests()).some((r) => r.type === RequestType.KeysUpload)).toBe(false);
    await again.close();
  });

  test('a corrupt store is refused with the reason, not half-used', async () => {
    const m = await open();
    await m.close();
    writeFileSync(join(dir, 'olm-store.bin'), 'garbage');
    const err = await open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoUnavailableError);
    expect((err as CryptoUnavailableError).reason).toBe('store');
    expect((err as Error).message).toMatch(/olm-store\.bin is corrupt/);
  });

  test('a store made for another device does not open for this one', async () => {
    const m = await open();
    await m.close();
    const err = await open(dir, 'OTHER').catch((e: unknown) => e);
    expect((err as CryptoUnavailableError).reason).toBe('store');
  });

  test('sign: signatures per key id with isValid and toBase64, as matrix-bot-sdk reads them', async () => {
    const m = await open();
    const sigs = (await m.sign(JSON.stringify({ a: 1 }))).get(new UserId(USER));
    expect(Object.keys(sigs)).toEqual(['ed25519:DEV1']);
    expect(sigs['ed25519:DEV1']!.isValid).toBe(true);
    expect(sigs['ed25519:DEV1']!.signature!.toBase64()).toMatch(/^[A-Za-z0-9+/]{86}$/);
    await m.close();
  });

  test('attachments: encrypted bytes differ, the info carries key/iv/hashes, and decrypt restores the file', async () => {
    const m = await open(); // loads the wasm module
    const data = Buffer.from('{"grade":"Great"}\n');
    const enc = Attachment.encrypt(data);
    const info = JSON.parse(enc.mediaEncryptionInfo);
    expect(info).toEqual(expect.objectContaining({ v: 'v2', iv: expect.any(String), hashes: { sha256: expect.any(String) }, key: expect.objectContaining({ alg: 'A256CTR', k: expect.any(String) }) }));
    expect(Buffer.from(enc.encryptedData).equals(data)).toBe(false);
    expect(Buffer.from(Attachment.decrypt(enc)).toString()).toBe(data.toString());
    await m.close();
  });
});

describe('bot crypto helpers', () => {
  const fakeE2ee = (encrypted: boolean): E2ee => ({
    deviceId: 'D', crossSigning: 'already', isEncrypted: async () => encrypted, close: async () => undefined,
    encryptFile: async (b) => ({ buffer: Buffer.from(b.toString('hex')), file: { v: 'v2', iv: 'i', hashes: { sha256: 'h' }, key: { k: 'k' } } }),
  });
  const f = { name: 'r.json', mimetype: 'application/json', bytes: Buffer.from('{}') };

  test('file message: encrypted room -> uploaded ciphertext, `file` with the url, no plain url', async () => {
    const uploads: [string, string][] = [];
    const c = await fileMessage(fakeE2ee(true), '!r', f, async (d, t) => { uploads.push([d.toString(), t]); return 'mxc://s/1'; });
    expect(uploads).toEqual([['7b7d', 'application/octet-stream']]);
    expect(c).toEqual(expect.objectContaining({ msgtype: 'm.file', file: expect.objectContaining({ url: 'mxc://s/1', iv: 'i' }) }));
    expect(c.url).toBeUndefined();
  });

  test('file message: unencrypted room (or no crypto) -> plain upload with url', async () => {
    for (const e of [fakeE2ee(false), null]) {
      const c = await fileMessage(e, '!r', f, async (d, t) => `mxc://s/${d.toString()}-${t}`);
      expect(c.url).toBe('mxc://s/{}-application/json');
      expect(c.file).toBeUndefined();
    }
  });

  test('room store: an unencrypted room is looked up once until an encryption event clears the memory', async () => {
    const s = new RoomCryptoStore(dir);
    expect(await s.getRoom('!a')).toBeUndefined();
    expect(await s.getRoom('!a')).toEqual({});
    s.forgetUnencrypted();
    expect(await s.getRoom('!a')).toBeUndefined();
    await s.storeRoom('!b', { algorithm: 'm.megolm.v1.aes-sha2' } as never);
    expect(await s.getRoom('!b')).toEqual({ algorithm: 'm.megolm.v1.aes-sha2' });
  });

  test('undecryptable text: says why and what to do; a withheld code is defanged', () => {
    expect(undecryptableText('@a:x', { code: 0 }, '!voiptest')).toMatch(/did not reach my device.*send it again \(for example !voiptest\)/);
    expect(undecryptableText('@a:x', { code: 1 }, '!v')).toMatch(/starts after that message/);
    const t = undecryptableText('@a:x', { withheld: 'm.unverified<script>' }, '!v');
    expect(t).toContain('(m.unverifiedscript)');
    expect(t).not.toContain('<');
  });
});
