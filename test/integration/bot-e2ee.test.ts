// The bot in encrypted rooms against a real Synapse and a real E2EE client
// that is not ours (matrix-nio with its crypto, test/support/nio_driver.py):
// an encrypted DM opened as Element does, the JSON file as an encrypted
// attachment, cross-signing, restarts (same device; lost store -> new device,
// old one removed), a room that turns encryption on, a message whose key never came,
// and the fallback when the crypto store is corrupt.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';
import { VoipBot } from '../../src/bot/bot';
import { adoptSdkLogging } from '../../src/bot/sdk-log';
import { loadConfig, type BotConfig } from '../../src/config';
import { createLogger } from '../../src/ops/log';
import { NioClient, nioAvailable } from '../support/nio';
import { matrixTestClient, waitFor } from '../support/matrix-client';

jest.setTimeout(240_000);

let coturn: CoturnLab | undefined;
let hs: SynapseLab | undefined;
let bot: VoipBot | undefined;
let nio: NioClient | undefined;
let dir: string;
let botUser: SynapseUser;
let alice: SynapseUser;
const logLines: string[] = [];
const testLog = createLogger({ level: 'debug', format: 'json', sink: { write: (l: string) => logLines.push(l) } });
const { api } = matrixTestClient(() => hs!.url, () => botUser.userId, 'e');

const BOT_PASSWORD = 'bot-password-e2ee';
const ALICE_PASSWORD = 'alice-password-e2ee';

function botConfig(dataDir: string, env: Record<string, string> = { MXV_PASSWORD: BOT_PASSWORD }): BotConfig {
  return loadConfig({
    env,
    text: `
homeserver: { url: "${hs!.url}"${env.MXV_PASSWORD ? `, userId: "${botUser.userId}"` : ''} }
dataDir: "${dataDir}"
admins: ["${alice.userId}"]
limits: { userCooldownSeconds: 0, roomCooldownSeconds: 0, maxConcurrentRuns: 2 }
engine: { allowPrivate: true, quality: "off", e2e: false, timeoutMs: 15000, family: "ipv4" }
logging: { level: "debug", format: "json" }
ops: { listen: "127.0.0.1:0" }
web: { enabled: true, listen: "127.0.0.1:0", linkTtl: 600, connectSrc: ["http://127.0.0.1:*"] }
`,
  });
}

async function startBot(dataDir = join(dir, 'data'), env?: Record<string, string>): Promise<VoipBot> {
  const b = new VoipBot(botConfig(dataDir, env), testLog);
  await b.start();
  return b;
}

/** The bot's own devices (not the one the test's registration made for its token). */
async function botDevices(): Promise<string[]> {
  const me = await api(botUser, 'GET', '/account/whoami');
  const r = await api(botUser, 'GET', '/devices');
  return (r.devices as { device_id: string }[]).map((d) => d.device_id).filter((d) => d !== me.device_id).sort();
}

/** The event as the server holds it: what went over the wire. */
async function onServer(room: string, eventId: string): Promise<{ type: string; content: Record<string, unknown> }> {
  return nio!.call('raw_event', { room, event_id: eventId });
}

beforeAll(async () => {
  if (!nioAvailable()) throw new Error('no matrix-nio venv: run scripts/ensure-deps.sh');
  dir = mkdtempSync(join(tmpdir(), 'mxv-e2ee-it-'));
  coturn = await startCoturn({});
  const u = coturn.uris();
  hs = await startSynapse({ turnUris: [u.turnUdp, u.turnTcp], turnSharedSecret: coturn.secret!, turnUserLifetime: '1h' });
  [botUser, alice] = await Promise.all([hs.registerUser('voiptest', BOT_PASSWORD), hs.registerUser('alice', ALICE_PASSWORD, true)]);
  adoptSdkLogging(testLog);
  bot = await startBot();
  nio = new NioClient();
  await nio.call('login', { hs: hs.url, user: alice.userId, password: ALICE_PASSWORD, store: join(dir, 'nio') });
});

afterAll(async () => {
  if (process.env.MXV_TEST_LOG) writeFileSync(process.env.MXV_TEST_LOG, logLines.join('\n'));
  await nio?.close();
  await bot?.stop(2000).catch(() => undefined);
  await hs?.stop().catch(() => undefined);
  await coturn?.stop().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bot in encrypted rooms (matrix-nio as the other side)', () => {
  let dm: string;

  test('an encrypted DM opened as Element does: the command is read, the reaction and the report are encrypted', async () => {
    ({ room_id: dm } = await nio!.call('create_room', { invite: [botUser.userId], encrypted: true, direct: true }));
    await nio!.call('wait_joined', { room: dm, user: botUser.userId });
    const sent = await nio!.call('send', { room: dm, body: '!voiptest' });
    expect(sent.encrypted).toBe(true);
    const reaction = await nio!.waitEvent(dm, botUser.userId, { type: 'm.reaction', after: sent.event_id, timeout: 60 });
    expect(reaction.decrypted).toBe(true);
    const report = await nio!.waitEvent(dm, botUser.userId, { pattern: '^VoIP check of', after: sent.event_id, timeout: 90 });
    expect(report.decrypted).toBe(true);
    expect(report.content.body).toMatch(/Full JSON report: !voiptest json 1/);
    for (const id of [reaction.event_id, report.event_id]) expect((await onServer(dm, id)).type).toBe('m.room.encrypted');
    // Nothing of the report is readable on the server.
    expect(JSON.stringify(await onServer(dm, report.event_id))).not.toContain('VoIP check');
  });

  test('help and history answers are encrypted; the JSON report is an encrypted attachment nio decrypts', async () => {
    let sent = await nio!.call('send', { room: dm, body: '!voiptest help' });
    const help = await nio!.waitEvent(dm, botUser.userId, { pattern: 'history', after: sent.event_id });
    expect(help.decrypted).toBe(true);
    sent = await nio!.call('send', { room: dm, body: '!voiptest history' });
    expect((await nio!.waitEvent(dm, botUser.userId, { pattern: '#1', after: sent.event_id })).decrypted).toBe(true);
    sent = await nio!.call('send', { room: dm, body: '!voiptest json 1' });
    const file = await nio!.waitEvent(dm, botUser.userId, { pattern: 'voiptest-run-1.json', after: sent.event_id });
    expect(file.decrypted).toBe(true);
    expect(file.content.msgtype).toBe('m.file');
    expect(file.content.url).toBeUndefined();
    expect(file.content.file.url).toMatch(/^mxc:\/\//);
    const got = await nio!.call('download_file', { content: file.content });
    expect(got.ciphertext_is_plain).toBe(false);
    const json = JSON.parse(got.text);
    expect(json.grade.overall).toEqual(expect.any(String));
  });

  test('the browser-helper link goes into the encrypted DM, encrypted', async () => {
    const sent = await nio!.call('send', { room: dm, body: '!voiptest browser' });
    const link = await nio!.waitEvent(dm, botUser.userId, { pattern: 'one-time link', after: sent.event_id });
    expect(link.decrypted).toBe(true);
    expect(link.content.body).toMatch(/http:\/\/127\.0\.0\.1:\d+\/helper\//);
    expect((await onServer(dm, link.event_id)).type).toBe('m.room.encrypted');
  });

  test('cross-signing: the bot\'s device is signed by its own self-signing key', async () => {
    const q = await nio!.call('user_devices', { user: botUser.userId });
    expect(q.master_keys).toBe(true);
    const ssk = Object.keys(q.self_signing_keys.keys)[0];
    const [device] = q.device_keys;
    expect(q.devices_signatures[device]).toContain(ssk);
  });

  test('after a restart (same device) the next message is read within one sync and answered encrypted', async () => {
    const before = await botDevices();
    await bot!.stop(2000);
    bot = await startBot();
    const t0 = Date.now();
    const sent = await nio!.call('send', { room: dm, body: '!voiptest status' });
    const ans = await nio!.waitEvent(dm, botUser.userId, { pattern: 'mx-voiptest', after: sent.event_id, timeout: 30 });
    expect(ans.decrypted).toBe(true);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await botDevices()).toEqual(before);
  });

  test('a lost crypto store: the bot logs in as a new device, removes the old one, and nio\'s next message is read', async () => {
    const before = await botDevices();
    expect(before).toHaveLength(1);
    const [old] = before;
    await bot!.stop(2000);
    rmSync(join(dir, 'data', 'crypto'), { recursive: true, force: true });
    bot = await startBot();
    const now = await botDevices();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(old);
    const sent = await nio!.call('send', { room: dm, body: '!voiptest help' });
    expect((await nio!.waitEvent(dm, botUser.userId, { pattern: 'history', after: sent.event_id, timeout: 30 })).decrypted).toBe(true);
  });

  test('a group room that turns encryption on mid-way', async () => {
    const { room_id: room } = await nio!.call('create_room', { invite: [botUser.userId], encrypted: false, direct: false });
    await nio!.call('wait_joined', { room, user: botUser.userId });
    let sent = await nio!.call('send', { room, body: '!voiptest help' });
    expect(sent.encrypted).toBe(false);
    let ans = await nio!.waitEvent(room, botUser.userId, { pattern: 'history', after: sent.event_id });
    expect((await onServer(room, ans.event_id)).type).toBe('m.room.message');
    await nio!.call('enable_encryption', { room });
    sent = await nio!.call('send', { room, body: '!voiptest status' });
    expect(sent.encrypted).toBe(true);
    ans = await nio!.waitEvent(room, botUser.userId, { pattern: 'mx-voiptest', after: sent.event_id });
    expect(ans.decrypted).toBe(true);
    expect((await onServer(room, ans.event_id)).type).toBe('m.room.encrypted');
  });

  test('a message whose key never reached the bot gets a clear answer (encrypted), not silence', async () => {
    const { room_id: room } = await nio!.call('create_room', { invite: [botUser.userId], encrypted: true, direct: false });
    await nio!.call('wait_joined', { room, user: botUser.userId });
    const lost = await nio!.call('send_undecryptable', { room });
    const ans = await nio!.waitEvent(room, botUser.userId, { pattern: 'could not decrypt a message', after: lost.event_id, timeout: 30 });
    expect(ans.decrypted).toBe(true);
    expect(ans.content['m.relates_to']?.['m.in_reply_to']?.event_id).toBe(lost.event_id);
    expect(ans.content.body).toMatch(/send it again/);
    // The room works for messages the bot has the key for.
    const sent = await nio!.call('send', { room, body: '!voiptest help' });
    expect((await nio!.waitEvent(room, botUser.userId, { pattern: 'history', after: sent.event_id })).decrypted).toBe(true);
  });

  test('no key material in the bot\'s logs or history database; the store on disk is sealed', async () => {
    const log = logLines.join('\n');
    expect(log).not.toContain(BOT_PASSWORD);
    expect(log).not.toMatch(/"(session_key|one_time_keys|private_key|ciphertext)"/);
    expect(log).toContain('end-to-end encryption on');
    // The password challenge (device removal, cross-signing) is expected, not an error.
    expect(logLines.filter((l) => l.includes('"level":"error"') && l.includes('flows'))).toHaveLength(0);
    // Every stored secret (account, sessions, room keys) is ciphertext under the store key.
    const { deserialize } = await import('node:v8');
    const { readFileSync } = await import('node:fs');
    const snap = deserialize(readFileSync(join(dir, 'data', 'crypto', 'olm-store.bin'))) as { dbs: { stores: { name: string; values: unknown[] }[] }[] };
    const stores = new Map(snap.dbs.flatMap((d) => d.stores.map((s) => [s.name, s.values] as const)));
    const sealed = (v: unknown) => typeof v === 'object' && v !== null && 'ciphertext' in v && 'nonce' in v;
    expect((stores.get('core') ?? []).filter((v) => !sealed(v) && typeof v === 'object')).toHaveLength(0);
    const inbound = (stores.get('inbound_group_sessions3') ?? []) as { pickled_session: unknown }[];
    expect(inbound.length).toBeGreaterThan(0);
    expect(inbound.every((v) => sealed(v.pickled_session))).toBe(true);
    expect((stores.get('session') ?? []).every(sealed)).toBe(true);
    // The history holds reports, nothing of the crypto.
    const key = readFileSync(join(dir, 'data', 'crypto', 'olm-store.key'));
    const db = ['history.db', 'history.db-wal'].map((f) => join(dir, 'data', f)).filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('');
    expect(db).toContain(alice.userId); // the runs are there to search (requester)
    for (const secret of [BOT_PASSWORD, key.toString('base64').slice(0, 20), key.toString('hex').slice(0, 20), 'session_key', 'm.megolm']) expect(db).not.toContain(secret);
  });

  test('crypto that cannot start falls back, one clear log line each: the wasm does not load; keys lost with only an access token', async () => {
    await bot!.stop(2000);
    const other = join(dir, 'token-bot');
    const token = { MXV_ACCESS_TOKEN: botUser.accessToken.reveal() };
    const offLines = (from: number) => logLines.slice(from).filter((l) => l.includes('end-to-end encryption is off'));
    let from = logLines.length;
    process.env.MXV_CRYPTO_WASM_FAIL = '1';
    let b = await startBot(other, token).finally(() => { delete process.env.MXV_CRYPTO_WASM_FAIL; });
    await b.stop(2000);
    expect(offLines(from)).toHaveLength(1);
    expect(offLines(from)[0]).toMatch(/WebAssembly\) did not load/);
    // With the crypto: keys uploaded for the token's device; then the store is lost.
    from = logLines.length;
    b = await startBot(other, token);
    await b.stop(2000);
    expect(offLines(from)).toHaveLength(0);
    rmSync(join(other, 'crypto'), { recursive: true, force: true });
    from = logLines.length;
    b = await startBot(other, token);
    await b.stop(2000);
    expect(offLines(from)).toHaveLength(1);
    expect(offLines(from)[0]).toMatch(/already has encryption keys.*new device, or a password/);
    bot = await startBot();
  });

  test('a corrupt crypto store: logged once, and the bot falls back to the plain notice + unencrypted DM', async () => {
    await bot!.stop(2000);
    writeFileSync(join(dir, 'data', 'crypto', 'olm-store.bin'), 'not a store');
    const from = logLines.length;
    bot = await startBot();
    const lines = logLines.slice(from).filter((l) => l.includes('end-to-end encryption is off'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/corrupt/);
    const sent = await nio!.call('send', { room: dm, body: '!voiptest' });
    const ans = await nio!.waitEvent(dm, botUser.userId, { pattern: 'encrypted', after: sent.event_id, timeout: 30 });
    expect(ans.decrypted).toBe(false);
    expect((await onServer(dm, ans.event_id)).type).toBe('m.room.message');
    await waitFor('unencrypted DM invite', async () => {
      const s = await api(alice, 'GET', '/sync?timeout=0');
      return Object.keys(s.rooms?.invite ?? {}).length > 0;
    });
  });
});
