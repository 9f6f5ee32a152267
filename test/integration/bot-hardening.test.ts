// The bot against hostile input on a real Synapse (127.0.0.1): a flood of
// messages built to make a parser go quadratic must not delay another user's
// answer or the health check.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';
import { matrixTestClient, waitFor } from '../support/matrix-client';
import { VoipBot } from '../../src/bot/bot';
import { createLogger } from '../../src/ops/log';
import { loadConfig } from '../../src/config';
import { adoptSdkLogging } from '../../src/bot/sdk-log';

jest.setTimeout(180_000);

let hs: SynapseLab | undefined;
let bot: VoipBot | undefined;
let dir: string;
let alice: SynapseUser;
let bob: SynapseUser;
let mallory: SynapseUser;
let botUser: SynapseUser;
const testLog = createLogger({ level: 'info', format: 'json', sink: { write: () => undefined } });
const { api, send, botNotice } = matrixTestClient(() => hs!.url, () => botUser.userId, 'h');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mxv-bot-hard-'));
  hs = await startSynapse({});
  [botUser, alice, bob, mallory] = await Promise.all([
    hs.registerUser('voiptest', 'bot-password'),
    hs.registerUser('alice', 'alice-password', true),
    hs.registerUser('bob', 'bob-password'),
    hs.registerUser('mallory', 'mallory-password'),
  ]);
  bot = new VoipBot(loadConfig({
    env: { MXV_ACCESS_TOKEN: botUser.accessToken.reveal() },
    text: `
homeserver: { url: "${hs.url}" }
dataDir: "${join(dir, 'data')}"
admins: ["${alice.userId}"]
invites: { users: ["${alice.userId}"] }
engine: { quality: "off", e2e: false, timeoutMs: 15000 }
ops: { listen: "127.0.0.1:0" }
`,
  }), testLog);
  adoptSdkLogging(testLog);
  await bot.start();
});

afterAll(async () => {
  await bot?.stop(2000).catch(() => undefined);
  await hs?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('20 messages of 60 KB of "<" do not delay another user (< 1 s) or /healthz (< 100 ms)', async () => {
  const { room_id: room } = await api(alice, 'POST', '/createRoom', { preset: 'public_chat', invite: [botUser.userId] });
  await waitFor('bot joined', async () => Boolean((await api(alice, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[botUser.userId]));
  await Promise.all([mallory, bob].map((u) => api(u, 'POST', `/join/${encodeURIComponent(room)}`, {})));
  const pill = `<a href="https://matrix.to/#/${botUser.userId}">voiptest</a>: `;
  const flood = '<'.repeat(60_000);

  let healthMax = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      const r = await fetch(`${bot!.opsUrl}/healthz`);
      await r.arrayBuffer();
      healthMax = Math.max(healthMax, performance.now() - t0);
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  try {
    const sends = Array.from({ length: 20 }, () => send(mallory, room, 'voiptest: status', { format: 'org.matrix.custom.html', formatted_body: pill + flood }));
    await new Promise((r) => setTimeout(r, 300)); // the flood is arriving at the bot
    const asked = await send(bob, room, '!voiptest status');
    await Promise.all(sends);
    const answer = await botNotice(bob, room, asked, /mx-voiptest/, 30_000);
    const question = await api(bob, 'GET', `/rooms/${encodeURIComponent(room)}/event/${encodeURIComponent(asked)}`);
    const answeredInMs = (answer as unknown as { origin_server_ts: number }).origin_server_ts - question.origin_server_ts;
    console.log('flood timings (ms):', JSON.stringify({ answeredInMs, healthMaxMs: Math.round(healthMax) }));
    expect(answeredInMs).toBeLessThan(1000);
    // Let the bot chew through everything still queued while /healthz is polled.
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    polling = false;
    await poller;
  }
  expect(healthMax).toBeLessThan(100);
});
