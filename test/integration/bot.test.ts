// The bot against a real Synapse (lab, 127.0.0.1) whose turn_uris and
// turn_shared_secret point at a real lab coturn. Test users talk to the bot
// over the client-server API and read back what it posts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';
import { matrixTestClient, waitFor, type Ev } from '../support/matrix-client';
import { VoipBot } from '../../src/bot/bot';
import { createLogger } from '../../src/ops/log';
import { adoptSdkLogging } from '../../src/bot/sdk-log';
import { loadConfig, type BotConfig } from '../../src/config';

jest.setTimeout(180_000);


let coturn: CoturnLab | undefined;
let hs: SynapseLab | undefined;
let bot: VoipBot | undefined;
let dir: string;
let alice: SynapseUser; // admin, allowed inviter
let bob: SynapseUser; // allowed inviter
let mallory: SynapseUser; // not allowed
let botUser: SynapseUser;
const logLines: string[] = [];
const testLog = createLogger({ level: 'debug', format: 'json', sink: { write: (l: string) => logLines.push(l) } });

const { api, send, events, botNotice } = matrixTestClient(() => hs!.url, () => botUser.userId, 't');

async function roomWithBot(u: SynapseUser, opts: Record<string, unknown> = {}): Promise<string> {
  const { room_id: roomId } = await api(u, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId], ...opts });
  await waitFor('bot joined', async () => {
    const m = await api(u, 'GET', `/rooms/${encodeURIComponent(roomId)}/joined_members`);
    return Boolean(m.joined?.[botUser.userId]);
  });
  return roomId;
}

function botConfig(extra: string, dataDir: string): BotConfig {
  return loadConfig({
    env: { MXV_ACCESS_TOKEN: botUser.accessToken.reveal() },
    text: `
homeserver: { url: "${hs!.url}" }
dataDir: "${dataDir}"
admins: ["${alice.userId}"]
invites: { users: ["${alice.userId}", "${bob.userId}"] }
limits: { userCooldownSeconds: 30, roomCooldownSeconds: 0, maxConcurrentRuns: 2 }
schedule: { minIntervalSeconds: 1 }
engine: { allowPrivate: true, quality: "off", e2e: false, timeoutMs: 15000, family: "ipv4" }
logging: { level: "debug", format: "json" }
ops: { listen: "127.0.0.1:0" }
encryption: { enabled: false }  # the unencrypted path (bot-e2ee.test.ts covers encryption)
${extra}`,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mxv-bot-it-'));
  coturn = await startCoturn({});
  const u = coturn.uris();
  hs = await startSynapse({ turnUris: [u.turnUdp, u.turnTcp], turnSharedSecret: coturn.secret!, turnUserLifetime: '1h' });
  [botUser, alice, bob, mallory] = await Promise.all([
    hs.registerUser('voiptest', 'bot-password'),
    hs.registerUser('alice', 'alice-password', true),
    hs.registerUser('bob', 'bob-password'),
    hs.registerUser('mallory', 'mallory-password'),
  ]);
  bot = new VoipBot(botConfig('', join(dir, 'data')), testLog);
  adoptSdkLogging(testLog);
  await bot.start();
});

afterAll(async () => {
  await bot?.stop(2000).catch(() => undefined);
  await hs?.stop().catch(() => undefined);
  await coturn?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('bot against a real Synapse', () => {
  let room: string;

  test('joins when an allowed user invites; help, status, history on an empty store', async () => {
    room = await roomWithBot(alice);
    let e = await send(alice, room, '!voiptest help');
    expect((await botNotice(alice, room, e, /history/)).content.body).toContain('!voiptest schedule set <cron> [tz]');
    e = await send(alice, room, '!voiptest status');
    expect((await botNotice(alice, room, e, /mx-voiptest/)).content.body).toMatch(/Last scheduled run: none yet/);
    e = await send(alice, room, '!voiptest history');
    await botNotice(alice, room, e, /^No runs yet/);
    e = await send(alice, room, '!voiptest frobnicate');
    await botNotice(alice, room, e, /Unknown command "frobnicate"/);
  });

  test('declines an invite from a user who is not allowed', async () => {
    const { room_id: r } = await api(mallory, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId] });
    await waitFor('bot declined', async () => {
      const s = await api(mallory, 'GET', `/rooms/${encodeURIComponent(r)}/state/m.room.member/${encodeURIComponent(botUser.userId)}`);
      return s.membership === 'leave';
    });
  });

  test('mention form and the pill form', async () => {
    let e = await send(alice, room, `${botUser.userId} voiptest status`);
    await botNotice(alice, room, e, /mx-voiptest/);
    e = await send(alice, room, 'voiptest: history', {
      format: 'org.matrix.custom.html',
      formatted_body: `<a href="https://matrix.to/#/${botUser.userId}">voiptest</a>: history`,
    });
    await botNotice(alice, room, e, /^No runs yet/);
  });

  test('!voiptest: ⏳ then the summary as a reply, details in a thread, the result reaction, history, JSON file; cooldown', async () => {
    const e = await send(alice, room, '!voiptest');
    const report = await botNotice(alice, room, e, /^VoIP check of/, 60_000);
    expect(report.content.msgtype).toBe('m.notice');
    expect(report.content.format).toBe('org.matrix.custom.html');
    expect(report.content.formatted_body).not.toContain('<details>');
    expect(report.content['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: e } });
    // The details: thread replies under the summary, each a fallback reply to the previous one.
    const thread = await waitFor('thread replies', async () => {
      const all = await events(alice, room);
      const parts = all.filter((x) => x.sender === botUser.userId && x.content['m.relates_to']?.rel_type === 'm.thread' && x.content['m.relates_to']?.event_id === report.event_id);
      const n = /\((\d+)\/(\d+)\)/.exec(String(parts[0]?.content.body ?? ''));
      return n && parts.length === Number(n[2]) ? parts : null;
    }, 30_000);
    expect(thread[0]!.content['m.relates_to']['m.in_reply_to']).toEqual({ event_id: report.event_id });
    for (let i = 1; i < thread.length; i++) expect(thread[i]!.content['m.relates_to']['m.in_reply_to']).toEqual({ event_id: thread[i - 1]!.event_id });
    expect(thread.map((x) => String(x.content.body)).join('\n')).toMatch(/Allocation with credentials \(AUTH-2\)/);
    expect(report.content.body).toMatch(/Full JSON report: !voiptest json 1/);
    expect(JSON.stringify(report.content)).not.toContain(botUser.accessToken.reveal());
    expect(JSON.stringify(report.content)).not.toContain(coturn!.secret!);
    // ⏳ was redacted and replaced by the result.
    const evs = await waitFor('result reaction', async () => {
      const all = await events(alice, room);
      return all.some((x) => x.type === 'm.reaction' && x.sender === botUser.userId && x.content['m.relates_to']?.event_id === e && x.content['m.relates_to']?.key !== '⏳') ? all : null;
    });
    const reactions = evs.filter((x) => x.type === 'm.reaction' && x.sender === botUser.userId);
    const hourglass = reactions.find((x) => x.unsigned?.redacted_because || Object.keys(x.content).length === 0);
    expect(hourglass).toBeDefined();
    const live = reactions.filter((x) => x.content['m.relates_to']?.event_id === e).map((x) => x.content['m.relates_to'].key);
    expect(live).toHaveLength(1);

    // The report in the room agrees with the stored findings.
    const j = await send(alice, room, '!voiptest json');
    const file = await waitFor('json file', async () => {
      const all = await events(alice, room);
      const i = all.findIndex((x) => x.event_id === j);
      return all.slice(i + 1).find((x) => x.sender === botUser.userId && x.content.msgtype === 'm.file');
    });
    const media = await fetch(`${hs!.url}/_matrix/client/v1/media/download/${String(file.content.url).slice('mxc://'.length)}`, {
      headers: { authorization: `Bearer ${alice.accessToken.reveal()}` },
    });
    const stored = (await media.json()) as { grade: { overall: string; ipv4: string }; security: { verdict: string }; checks: { id: string; status: string }[] };
    expect(report.content.body).toContain(`: ${stored.grade.overall} (IPv4 ${stored.grade.ipv4}`);
    expect(stored.checks.find((c) => c.id === 'HS-1')?.status).toBe('pass');
    const g = stored.grade.overall;
    const v = stored.security.verdict;
    expect(live[0]).toBe(v === 'unsafe' ? `⛔ done: ${g}, unsafe` : g === 'Fail' ? `🔴 done: ${g}` : g === 'Poor' || v === 'warn' ? `⚠️ done: ${g}` : `✅ done: ${g}`);
    expect(report.content.body).toContain(`Security: ${v}`);

    const h = await send(alice, room, '!voiptest history');
    const hist = (await botNotice(alice, room, h, /^Last 1 run/)).content.body;
    expect(hist).toContain(`${stored.grade.overall} (IPv4`);
    expect(hist).toContain('started by: command');

    const again = await send(alice, room, '!voiptest');
    await botNotice(alice, room, again, /try again in \d+ s/);
  });

  test('encrypted room: a plain notice, and an unencrypted DM where commands work', async () => {
    const enc = await roomWithBot(bob, { initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }] });
    const ev = (await api(bob, 'PUT', `/rooms/${encodeURIComponent(enc)}/send/m.room.encrypted/enc${Date.now()}`, {
      algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'AwgAEnAB', device_id: 'X', sender_key: 'k', session_id: 's',
    })).event_id as string;
    const n = await botNotice(bob, enc, ev, /cannot read encrypted messages.*invited you to an unencrypted room, "VoIP test \(unencrypted\)"/);
    const sync = await waitFor('DM invite', async () => {
      const s = await api(bob, 'GET', '/sync?timeout=0');
      return Object.keys(s.rooms?.invite ?? {})[0];
    });
    // The new room is a link (a pill) named as the notice names it.
    expect(n.content.formatted_body).toContain(`<a href="https://matrix.to/#/${encodeURIComponent(sync)}?via=localhost">VoIP test (unencrypted)</a>`);
    await api(bob, 'POST', `/join/${encodeURIComponent(sync)}`, {});
    const enc2 = await api(bob, 'GET', `/rooms/${encodeURIComponent(sync)}/state/m.room.encryption/`).catch(() => null);
    expect(enc2).toBeNull();
    const e = await send(bob, sync, '!voiptest help');
    await botNotice(bob, sync, e, /history/);
  });

  test('schedule: admin sets a short cron, the report arrives in the admin room; others may not', async () => {
    let e = await send(alice, room, '!voiptest schedule rooms here');
    await botNotice(alice, room, e, /^Saved\. Scheduled report/);
    e = await send(alice, room, '!voiptest schedule set "*/3 * * * * *" UTC');
    await botNotice(alice, room, e, /^Saved\. Scheduled report: "\*\/3 \* \* \* \* \*"/);
    const rep = await botNotice(alice, room, e, /^VoIP check of/, 60_000);
    // The same target ran before (the command's run): the second line says what changed, or that nothing did.
    expect(String(rep.content.body).split('\n')[1]).toMatch(/^(Unchanged since run #\d+, \d\d:\d\d UTC\.|(⚠️ Regression|Changes) since run #\d+, \d\d:\d\d UTC:)$/);
    e = await send(alice, room, '!voiptest schedule set 08:00');
    await botNotice(alice, room, e, /"0 8 \* \* \*"/);
    e = await send(alice, room, '!voiptest status');
    expect((await botNotice(alice, room, e, /mx-voiptest/)).content.body).toMatch(/Last scheduled run: \d{4}-/);
    // Non-admins are told, not ignored.
    const dm = await roomWithBot(bob);
    e = await send(bob, dm, '!voiptest schedule set 09:00');
    await botNotice(bob, dm, e, /Only the bot's admins/);
  });

  test('survives a homeserver restart (during a run) and answers afterwards', async () => {
    const dm = await roomWithBot(bob);
    const e = await send(bob, dm, '!voiptest');
    await new Promise((r) => setTimeout(r, 300));
    await hs!.restart();
    await botNotice(bob, dm, e, /^VoIP check of|could not run/, 90_000);
    const s = await send(bob, dm, '!voiptest status');
    await botNotice(bob, dm, s, /mx-voiptest/, 60_000);
  });

  test('a scheduled run that regresses is highlighted and mentions the admins', async () => {
    let e = await send(alice, room, '!voiptest schedule set "*/3 * * * * *" UTC');
    const first = await botNotice(alice, room, e, /^VoIP check of/, 60_000);
    // coturn frozen: every relay goes silent, so the next scheduled run is worse.
    process.kill(coturn!.pid, 'SIGSTOP');
    try {
      const reg = await botNotice(alice, room, first.event_id, /Regression since run #\d+/, 90_000);
      expect(reg.content['m.mentions']?.user_ids).toEqual([alice.userId]);
      expect(reg.content.formatted_body).toContain(`https://matrix.to/#/${encodeURIComponent(alice.userId)}`);
    } finally {
      process.kill(coturn!.pid, 'SIGCONT');
      e = await send(alice, room, '!voiptest schedule set 08:00');
      await botNotice(alice, room, e, /"0 8 \* \* \*"/);
    }
  });

  test('/healthz says ok while syncing; /metrics counts the runs by trigger (own ops server)', async () => {
    expect(bot!.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const h = await fetch(`${bot!.opsUrl}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', sync: 'running', helper: 'off' });
    const m = await (await fetch(`${bot!.opsUrl}/metrics`)).text();
    expect(m).toMatch(/^mxv_runs_total\{trigger="command",result="[a-z]+"\} [1-9]/m);
    expect(m).toMatch(/^mxv_runs_total\{trigger="schedule",result="[a-z]+"\} [1-9]/m);
    expect(m).toMatch(/^mxv_grade\{target="hs:http:\/\/127\.0\.0\.1:\d+",family="overall"\} \d/m);
    expect(m).toContain('mxv_runs_in_progress 0');
  });

  test('logs never contain the access token or the TURN secret', () => {
    const all = logLines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(botUser.accessToken.reveal());
    expect(all).not.toContain(coturn!.secret!);
  });

  test('the entry point: password login keeps the device id; SIGTERM exits 0', async () => {
    const data = join(dir, 'data2');
    const cfgPath = join(dir, 'bot2.yaml');
    const user = await hs!.registerUser('voiptest2', 'bot2-password');
    writeFileSync(cfgPath, `homeserver: { url: "${hs!.url}", userId: "${user.userId}" }\ndataDir: "${data}"\nlogging: { format: json }\nops: { listen: "127.0.0.1:0" }\n`);
    const run = async (): Promise<{ code: number | null; out: string }> => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', cfgPath], {
        cwd: join(__dirname, '..', '..'), env: { ...process.env, MXV_PASSWORD: 'bot2-password' }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { out += d; });
      try {
        await waitFor('bot syncing', async () => out.includes('"msg":"syncing"'), 60_000);
        p.kill('SIGTERM');
        const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
        return { code, out };
      } finally {
        if (p.exitCode === null) p.kill('SIGKILL');
      }
    };
    const first = await run();
    expect(first.code).toBe(0);
    const second = await run();
    expect(second.code).toBe(0);
    const device = (s: string) => /"deviceId":"([^"]+)"/.exec(s)?.[1];
    expect(device(first.out)).toBeDefined();
    expect(device(second.out)).toBe(device(first.out));
    expect(first.out + second.out).not.toContain('bot2-password');
  });
});
