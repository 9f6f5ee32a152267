// A bot run holds its deadline too: the bot (its own process, real Synapse whose
// /voip/turnServer points at a real coturn behind the bench's 50 ms proxy, so a
// 6-URI run takes longer than the deadline) is asked `!voiptest`, and coturn is
// SIGSTOPped 1 s after the run started. The run starts with the ⏳ reaction
// (sent as the engine starts); from it to the result reaction, after the
// report and its thread are posted, takes at most engine.timeoutMs + 2 s
// (Synapse's clock on both; how long the bot took to see the command is its sync, not the run).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BotProcess, isResultKey } from '../../bench/bot';
import { startDelayProxy, type DelayProxy } from '../../bench/lib/delay-proxy';
import { relatesTo, sendText, Watcher } from '../../bench/lib/matrix-driver';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';

jest.setTimeout(240_000);

const TIMEOUT_MS = 8000;
const GRACE_MS = 2000;

let coturn: CoturnLab | undefined;
let proxy: DelayProxy | undefined;
let hs: SynapseLab | undefined;
let dir: string;
let botUser: SynapseUser;
let admin: SynapseUser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mxv-deadlines-bot-'));
  coturn = await startCoturn({ tls: true });
  const hosts = ['127.0.0.1', '::1'];
  proxy = await startDelayProxy(50, hosts.flatMap((host) => [
    { name: `udp ${host}`, proto: 'udp' as const, host, target: coturn!.port },
    { name: `tls ${host}`, proto: 'tcp' as const, host, target: coturn!.tlsPort },
  ]));
  const lit = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const uris = hosts.flatMap((h) => [`stun:${lit(h)}:${proxy!.port(`udp ${h}`)}`, `turn:${lit(h)}:${proxy!.port(`udp ${h}`)}?transport=udp`, `turns:${lit(h)}:${proxy!.port(`tls ${h}`)}?transport=tcp`]);
  hs = await startSynapse({ turnUris: uris, turnSharedSecret: coturn.secret!, turnUserLifetime: '1h' });
  botUser = await hs.registerUser('voiptest', 'deadline-bot-password');
  admin = await hs.registerUser('admin', 'deadline-admin-password', true);
});

afterAll(async () => {
  if (coturn) process.kill(coturn.pid, 'SIGCONT');
  await hs?.stop().catch(() => undefined);
  await proxy?.close();
  await coturn?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('coturn stops mid-run: the report and the result reaction come within engine.timeoutMs + 2 s of the run start', async () => {
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, coturn!.caPem!);
  const config = join(dir, 'bot.yaml');
  writeFileSync(config, [
    `homeserver: { url: "${hs!.url}" }`,
    `dataDir: "${join(dir, 'data')}"`,
    'invites: { everyone: true }',
    'limits: { userCooldownSeconds: 0, roomCooldownSeconds: 0, maxConcurrentRuns: 2 }',
    'schedule: { enabled: false }',
    `engine: { allowPrivate: true, assumePublic: ["127.0.0.0/8", "::1/128"], ca: ["${caFile}"], quality: audio, timeoutMs: ${TIMEOUT_MS} }`,
    'logging: { level: info, format: json }',
    'ops: { listen: "127.0.0.1:0" }',
    '',
  ].join('\n'));
  const bot = await BotProcess.start(config, botUser.accessToken.reveal(), 'deadline-bot');
  const w = new Watcher(hs!.url, admin);
  let timer: NodeJS.Timeout | undefined;
  try {
    const { room_id: room } = await (await fetch(`${hs!.url}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.accessToken.reveal()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ preset: 'private_chat', invite: [botUser.userId] }),
    })).json() as { room_id: string };
    await w.start();
    await w.waitFor('the bot joined', (s) => s.roomId === room && s.ev.type === 'm.room.member' && s.ev.sender === botUser.userId, 30_000);
    const cmd = await sendText(hs!.url, admin, room, '!voiptest');
    const mine = (key: (k: string) => boolean) => (s: { ev: { sender: string; type: string; content: Record<string, unknown> } }) =>
      s.ev.sender === botUser.userId && s.ev.type === 'm.reaction' && relatesTo(s.ev as never).event_id === cmd.eventId && key(String(relatesTo(s.ev as never).key));
    const hourglass = await w.waitFor('⏳', mine((k) => k === '⏳'), 30_000);
    timer = setTimeout(() => process.kill(coturn!.pid, 'SIGSTOP'), 1000);
    const result = await w.waitFor('result reaction', mine(isResultKey), 60_000);
    const seen = await w.waitFor('the command', (s) => s.ev.event_id === cmd.eventId, 5000);
    const ms = result.ev.origin_server_ts - hourglass.ev.origin_server_ts;
    const commandToStartMs = hourglass.ev.origin_server_ts - seen.ev.origin_server_ts;
    process.stdout.write(`deadlines-bot: ${JSON.stringify({ timeoutMs: TIMEOUT_MS, runStartToResultMs: ms, overshootMs: ms - TIMEOUT_MS, commandToStartMs })}\n`);
    expect(ms).toBeLessThanOrEqual(TIMEOUT_MS + GRACE_MS);
    // And the bot is still there to answer.
    expect(bot.status().rssKb).toBeGreaterThan(0);
  } finally {
    clearTimeout(timer);
    process.kill(coturn!.pid, 'SIGCONT');
    await w.stop();
    await bot.stop();
  }
});
