// The bot watching XMPP too (#14 item 5), against a real Synapse (the chat) and
// a real Prosody whose XEP-0215 services point at a real lab coturn: the
// configured account's services join the scheduled report in their own
// report ("VoIP check of XMPP lab.test"), `!voiptest xmpp` runs them for
// admins only, and the account password appears in no message or log line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startProsody, type ProsodyLab } from '../../scripts/lab/prosody';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';
import { VoipBot } from '../../src/bot/bot';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/ops/log';
import { matrixTestClient, waitFor, type Ev } from '../support/matrix-client';

jest.setTimeout(180_000);

let coturn: CoturnLab | undefined;
let prosody: ProsodyLab | undefined;
let hs: SynapseLab | undefined;
let bot: VoipBot | undefined;
let dir: string;
let alice: SynapseUser; // admin
let bob: SynapseUser; // allowed inviter, not an admin
let botUser: SynapseUser;
let room: string;
const logLines: string[] = [];

const { api, send, events, botNotice } = matrixTestClient(() => hs!.url, () => botUser.userId, 'x');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mxv-bot-xmpp-'));
  coturn = await startCoturn({});
  [prosody, hs] = await Promise.all([
    startProsody({
      secret: coturn.secret,
      services: [
        { type: 'stun', transport: 'udp', host: '127.0.0.1', port: coturn.port },
        { type: 'turn', transport: 'udp', host: '127.0.0.1', port: coturn.port, secret: true },
      ],
    }),
    startSynapse({}),
  ]);
  [botUser, alice, bob] = await Promise.all([hs.registerUser('voiptest', 'bot-password'), hs.registerUser('alice', 'alice-password', true), hs.registerUser('bob', 'bob-password')]);
  const ca = join(dir, 'prosody-ca.pem');
  writeFileSync(ca, prosody.caPem);
  const { room_id: r } = await api(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId, bob.userId] });
  room = r;
  await api(bob, 'POST', `/rooms/${encodeURIComponent(room)}/join`, {});
  const config = loadConfig({
    env: { MXV_ACCESS_TOKEN: botUser.accessToken.reveal(), MXV_XMPP_PASSWORDS: `${prosody.jid} ${prosody.password}` },
    text: `
homeserver: { url: "${hs.url}" }
dataDir: "${join(dir, 'data')}"
admins: ["${alice.userId}"]
adminRooms: ["${room}"]
invites: { users: ["${alice.userId}"] }
limits: { userCooldownSeconds: 0, roomCooldownSeconds: 0, maxConcurrentRuns: 2 }
xmpp: { accounts: ["${prosody.jid} 127.0.0.1:${prosody.port}"] }
engine: { allowPrivate: true, assumePublic: ["127.0.0.0/8"], quality: "off", e2e: false, timeoutMs: 15000, family: "ipv4", ca: ["${ca}"] }
schedule: { enabled: false }
logging: { level: "debug", format: "json" }
ops: { listen: "" }
`,
  });
  bot = new VoipBot(config, createLogger({ level: 'debug', format: 'json', sink: { write: (l: string) => logLines.push(l) } }));
  await bot.start();
  await waitFor('bot joined', async () => {
    const m = await api(alice, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`);
    return Boolean(m.joined?.[botUser.userId]);
  });
});

afterAll(async () => {
  await bot?.stop(2000).catch(() => undefined);
  await Promise.all([hs?.stop().catch(() => undefined), prosody?.stop().catch(() => undefined)]);
  await coturn?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const botBodies = async (): Promise<string> =>
  (await events(alice, room))
    .filter((e: Ev) => e.sender === botUser.userId)
    .map((e: Ev) => `${e.content.body ?? ''}\n${e.content.formatted_body ?? ''}`)
    .join('\n');

describe('bot: XMPP accounts', () => {
  test('!voiptest xmpp: admins only; the report is the XMPP account\'s services', async () => {
    let e = await send(bob, room, '!voiptest xmpp');
    await botNotice(bob, room, e, /Only the bot's admins may use/);
    e = await send(alice, room, '!voiptest xmpp');
    const report = await botNotice(alice, room, e, /^VoIP check of XMPP lab\.test/, 60_000);
    expect(report.content['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: e } });
  });

  test('the scheduled report gives the XMPP account its own report, after the homeserver\'s', async () => {
    const before = (await events(alice, room)).at(-1)!.event_id;
    await bot!.scheduledRun();
    const xmppReport = await botNotice(alice, room, before, /^VoIP check of XMPP lab\.test/, 60_000);
    const hsReport = await botNotice(alice, room, before, /^VoIP check of http/, 5_000);
    const evs = await events(alice, room);
    expect(evs.findIndex((x) => x.event_id === hsReport.event_id)).toBeLessThan(evs.findIndex((x) => x.event_id === xmppReport.event_id));
  });

  test('the XMPP password and the TURN secret are in no message and no log line', async () => {
    const text = `${await botBodies()}\n${logLines.join('\n')}`;
    expect(text).toContain('lab.test');
    expect(text).not.toContain(prosody!.password);
    expect(text).not.toContain(coturn!.secret!);
  });
});
