// The bot against hostile input on a real Synapse (127.0.0.1): a new member's
// first command in a new room is answered at once (encryption on); a flood of
// messages built to make a parser go quadratic must not delay another user's
// answer or the health check; "json" has a cooldown and uploads a run once; a
// schedule cannot fire more often than the minimum; the data files are private.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';
import { matrixTestClient, waitFor } from '../support/matrix-client';
import { VoipBot } from '../../src/bot/bot';
import { createLogger } from '../../src/ops/log';
import { loadConfig } from '../../src/config';
import { HistoryStore } from '../../src/store';
import { adoptSdkLogging } from '../../src/bot/sdk-log';

jest.setTimeout(180_000);

let hs: SynapseLab | undefined;
let bot: VoipBot | undefined;
let dir: string;
let alice: SynapseUser;
let bob: SynapseUser;
let mallory: SynapseUser;
let carol: SynapseUser;
let botUser: SynapseUser;
const testLog = createLogger({ level: 'info', format: 'json', sink: { write: () => undefined } });
const { api, send, events, botNotice } = matrixTestClient(() => hs!.url, () => botUser.userId, 'h');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mxv-bot-hard-'));
  hs = await startSynapse({});
  [botUser, alice, bob, mallory, carol] = await Promise.all([
    hs.registerUser('voiptest', 'bot-password'),
    hs.registerUser('alice', 'alice-password', true),
    hs.registerUser('bob', 'bob-password'),
    hs.registerUser('mallory', 'mallory-password'),
    hs.registerUser('carol', 'carol-password'),
  ]);
  // A run from before this start, with its report, for "json".
  const seed = HistoryStore.open(join(dir, 'data', 'history.db'));
  seed.saveRun({ trigger: 'command', roomId: null, requester: null, targetKey: 'hs:seed', sourceKind: 'homeserver', report: JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'reports', 'healthy.json'), 'utf8')) });
  seed.close();
  bot = new VoipBot(loadConfig({
    env: { MXV_ACCESS_TOKEN: botUser.accessToken.reveal() },
    text: `
homeserver: { url: "${hs.url}" }
dataDir: "${join(dir, 'data')}"
admins: ["${alice.userId}"]
invites: { users: ["${alice.userId}"] }
engine: { quality: "off", e2e: false, timeoutMs: 15000 }
limits: { jsonCooldownSeconds: 2 }

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

test('encryption on: a new room\'s first command, from a member the bot never saw, is answered within 1 s', async () => {
  // The crypto used to hold the sync for 5 s per new member (device tracking
  // waiting on a key query it had not sent yet): see src/bot/crypto/tracking.ts.
  const { room_id: room } = await api(alice, 'POST', '/createRoom', { preset: 'public_chat', invite: [botUser.userId] });
  await waitFor('bot joined', async () => Boolean((await api(alice, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[botUser.userId]));
  await api(carol, 'POST', `/join/${encodeURIComponent(room)}`, {});
  const asked = await send(carol, room, '!voiptest status');
  const answer = await botNotice(carol, room, asked, /mx-voiptest/, 60_000);
  const question = await api(carol, 'GET', `/rooms/${encodeURIComponent(room)}/event/${encodeURIComponent(asked)}`);
  const answeredInMs = (answer as unknown as { origin_server_ts: number }).origin_server_ts - question.origin_server_ts;
  console.log('first answer in a new room (ms):', answeredInMs);
  expect(answeredInMs).toBeLessThan(1000);
});

test('20 messages of 60 KB of "<" do not delay another user (< 1 s) or /healthz (p95 < 100 ms)', async () => {
  const { room_id: room } = await api(alice, 'POST', '/createRoom', { preset: 'public_chat', invite: [botUser.userId] });
  await waitFor('bot joined', async () => Boolean((await api(alice, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[botUser.userId]));
  await Promise.all([mallory, bob].map((u) => api(u, 'POST', `/join/${encodeURIComponent(room)}`, {})));
  const pill = `<a href="https://matrix.to/#/${botUser.userId}">voiptest</a>: `;
  const flood = '<'.repeat(60_000);

  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const idle = monitorEventLoopDelay({ resolution: 5 });
  idle.enable();
  await new Promise((r) => setTimeout(r, 3000));
  idle.disable();
  const p95 = () => [...health].sort((a, b) => a - b)[Math.floor(health.length * 0.95)] ?? 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const health: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      const r = await fetch(`${bot!.opsUrl}/healthz`);
      await r.arrayBuffer();
      health.push(performance.now() - t0);
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
    console.log('flood timings (ms):', JSON.stringify({ answeredInMs, healthP95Ms: Math.round(p95()), healthMaxMs: Math.round(Math.max(...health)), polls: health.length, loopMaxMs: Math.round(loop.max / 1e6), idleLoopMaxMs: Math.round(idle.max / 1e6) }));
    expect(answeredInMs).toBeLessThan(1000);
    // Let the bot chew through everything still queued while /healthz is polled.
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    polling = false;
    await poller;
  }
  // p95 under 100 ms; the single worst poll is bounded more loosely, since on a
  // loaded 2-core CI machine the OS alone deschedules this process for ~100 ms
  // (the CPU profile of such a stretch shows no work in the bot). The old
  // quadratic parser held the loop for seconds: both bounds catch that.
  expect(p95()).toBeLessThan(100);
  expect(Math.max(...health)).toBeLessThan(500);
});

test('json: a cooldown per user, and one upload per run (the same file re-sent)', async () => {
  const { room_id: room } = await api(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId] });
  await waitFor('bot joined', async () => Boolean((await api(alice, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[botUser.userId]));
  const file = async (after: string) => waitFor('json file', async () => {
    const all = await events(alice, room);
    return all.slice(all.findIndex((x) => x.event_id === after) + 1).find((x) => x.sender === botUser.userId && x.content.msgtype === 'm.file');
  });
  let e = await send(alice, room, '!voiptest json 1');
  const first = await file(e);
  e = await send(alice, room, '!voiptest json 1');
  await botNotice(alice, room, e, /^You asked for a JSON report recently; try again in [12] s\./);
  await new Promise((r) => setTimeout(r, 2100));
  e = await send(alice, room, '!voiptest json 1');
  const second = await file(e);
  expect(second.content.url).toBe(first.content.url);
});

test('schedule: faster than the minimum (hourly) is refused and names the input', async () => {
  const { room_id: room } = await api(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId] });
  await waitFor('bot joined', async () => Boolean((await api(alice, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[botUser.userId]));
  let e = await send(alice, room, '!voiptest schedule set "* * * * * *" UTC');
  await botNotice(alice, room, e, /^Schedule not changed: "\* \* \* \* \* \*" runs every 1 s at times; the scheduled report may run at most every 3600 s/);
  e = await send(alice, room, '!voiptest schedule set 25:99 Mars/Olympus');
  await botNotice(alice, room, e, /"25:99 Mars\/Olympus" is not a valid cron expression/);
});

test('data files: directory 0700, history and sync state 0600', () => {
  const data = join(dir, 'data');
  expect(statSync(data).mode & 0o777).toBe(0o700);
  for (const f of ['history.db', 'sync.json']) expect(statSync(join(data, f)).mode & 0o777).toBe(0o600);
});
