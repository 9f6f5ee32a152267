// The bot with its browser helper, against a real Synapse, a real coturn and
// real Chromium, all on 127.0.0.1. The lab has one homeserver, so "a user the
// bot cannot get credentials for" is emulated with `!voiptest browser`: the
// user asks in a group room, gets the one-time link in a DM (never in the
// group), opens it in Chromium, logs in to their homeserver in the page,
// consents, and the group room receives the merged report with the "From
// your network" section; history keeps it (trigger browser, source shared,
// no secrets); /healthz and /metrics answer on the helper's server (same
// listen address) and count the runs by trigger.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';
import { matrixTestClient, waitFor, type Ev } from '../support/matrix-client';
import { VoipBot } from '../../src/bot/bot';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/ops/log';
import { adoptSdkLogging } from '../../src/bot/sdk-log';
import { HistoryStore } from '../../src/store';
import { runCheck, RunRefusedError } from '../../src/tester/engine';

jest.setTimeout(180_000);

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection', '--ignore-certificate-errors',
];
const CAROL_PASSWORD = 'carol-browser-password';


let coturn: CoturnLab | undefined;
let hs: SynapseLab | undefined;
let bot: VoipBot | undefined;
let ctx: BrowserContext | undefined;
let dir: string;
let botUser: SynapseUser;
let carol: SynapseUser;
let dave: SynapseUser;
const logLines: string[] = [];
const testLog = createLogger({ level: 'debug', format: 'json', sink: { write: (l: string) => logLines.push(l) } });
const timings: Record<string, number> = {};
let dmRoom = '';
/** Not a TURN server: a web server on a port the config allows for user-shared URIs. */
let web: Server | undefined;
let webPort = 0;
/** Set by a test: the next engine run is refused (the helper's 'failed' path). */
let refuseNext = false;

const { api, send, events, botNotice } = matrixTestClient(() => hs!.url, () => botUser.userId, 'b');

/** What carol does on the helper page: open it, log in to her own homeserver, consent. */
async function loginAndConsent(page: Page, url: string): Promise<void> {
  const resp = await page.goto(url);
  expect(resp?.status()).toBe(200);
  await page.waitForSelector('body[data-ready="1"]');
  await page.fill('#homeserver', hs!.url);
  await page.fill('#username', 'carol');
  await page.fill('#password', CAROL_PASSWORD);
  await page.click('#fetch');
  await page.waitForSelector('#step-consent:not([hidden])', { timeout: 15000 });
  await page.click('#consent');
}

beforeAll(async () => {
  const t0 = Date.now();
  dir = mkdtempSync(join(tmpdir(), 'mxv-bot-browser-'));
  coturn = await startCoturn({});
  const u = coturn.uris();
  hs = await startSynapse({ turnUris: [u.turnUdp, u.turnTcp], turnSharedSecret: coturn.secret!, turnUserLifetime: '1h' });
  [botUser, carol, dave] = await Promise.all([
    hs.registerUser('voiptest', 'bot-password'),
    hs.registerUser('carol', CAROL_PASSWORD),
    hs.registerUser('dave', 'dave-password'),
  ]);
  web = createServer((_q, r) => r.end('hello')).listen(0, '127.0.0.1');
  await new Promise((r) => web!.once('listening', r));
  webPort = (web.address() as { port: number }).port;
  const config = loadConfig({
    env: { MXV_ACCESS_TOKEN: botUser.accessToken.reveal() },
    text: `
homeserver: { url: "${hs.url}" }
dataDir: "${join(dir, 'data')}"
invites: { users: ["${carol.userId}"] }
limits: { userCooldownSeconds: 0, roomCooldownSeconds: 0, maxConcurrentRuns: 2 }
engine: { allowPrivate: true, quality: "off", e2e: false, timeoutMs: 15000, family: "ipv4" }
web: { enabled: true, listen: "127.0.0.1:0", linkTtl: 600, connectSrc: ["http://127.0.0.1:*"] }
userTargets: { allowRanges: ["127.0.0.0/8"], ports: ["3478", "3479", "5349", "5350", "443", "80", "${webPort}"] }
ops: { listen: "127.0.0.1:0" }
logging: { level: "debug", format: "json" }
encryption: { enabled: false }  # the unencrypted path (bot-e2ee.test.ts covers encryption)
`,
  });
  bot = new VoipBot(config, testLog, {
    runCheck: async (o) => {
      if (refuseNext) {
        refuseNext = false;
        throw new RunRefusedError('simulated refusal (password=hunter2-simulated)');
      }
      return runCheck(o);
    },
  });
  adoptSdkLogging(testLog);
  await bot.start();
  const profile = join(dir, 'chromium');
  ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  timings.setup = Date.now() - t0;
});

afterAll(async () => {
  await ctx?.close().catch(() => undefined);
  await bot?.stop(2000).catch(() => undefined);
  await hs?.stop().catch(() => undefined);
  await coturn?.stop().catch(() => undefined);
  web?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log('bot-browser timings (ms):', JSON.stringify(timings));
});

test('!voiptest browser in a group room: link in a DM, Chromium consents, the merged report lands in the group room', async () => {
  // A group room: carol, the bot, and dave (invited), so the link must not go here.
  const { room_id: group } = await api(carol, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId, dave.userId] });
  await waitFor('bot joined', async () => Boolean((await api(carol, 'GET', `/rooms/${encodeURIComponent(group)}/joined_members`)).joined?.[botUser.userId]));

  const t0 = Date.now();
  const cmd = await send(carol, group, '!voiptest browser');
  const note = await botNotice(carol, group, cmd, /^I sent you a one-time link in a direct chat/);
  timings.commandToNote = Date.now() - t0;
  const dm = /\((![^)]+)\)/.exec(String(note.content.body))![1]!;
  await api(carol, 'POST', `/join/${encodeURIComponent(dm)}`, {});
  dmRoom = dm;
  expect(await api(carol, 'GET', `/rooms/${encodeURIComponent(dm)}/state/m.room.encryption/`).catch(() => null)).toBeNull();
  expect(Object.keys((await api(carol, 'GET', `/rooms/${encodeURIComponent(dm)}/joined_members`)).joined).sort()).toEqual([botUser.userId, carol.userId].sort());
  const linkEv = await botNotice(carol, dm, null, /one-time link/);
  const body = String(linkEv.content.body);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/helper\/[A-Za-z0-9_-]{43})/.exec(body)![1]!;
  expect(body).toMatch(/TURN server addresses and a temporary TURN username and password/);
  expect(body).toMatch(/in the room you asked from \(!/);
  expect(body).toMatch(/expires at \d\d:\d\d UTC \(in 10 min\)/);
  expect(linkEv.content.formatted_body).toContain(`<a href="${url}">`);
  // The group room never sees a link.
  expect(JSON.stringify(await events(carol, group))).not.toContain('/helper/');

  // Chromium: open, log in to the own homeserver, consent.
  const page = await ctx!.newPage();
  const t1 = Date.now();
  await loginAndConsent(page, url);
  await page.waitForSelector('body[data-state="done"]', { timeout: 60000 });
  timings.openToResults = Date.now() - t1;
  expect(await page.textContent('#report')).toContain('From your network');
  await page.close();

  // The merged report in the room the command came from.
  const report = await botNotice(carol, group, cmd, /^VoIP check of/, 30_000);
  timings.commandToReport = Date.now() - t0;
  expect(report.content.body).toMatch(/From your network \(Chrom\w* \d+\): a data channel opened through 2 of 2 relays/);
  expect(report.content.formatted_body).toContain('From your network');
  expect(report.content['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: cmd } });
  expect(report.content.body).toMatch(/Full JSON report: !voiptest json \d+/);
  const all = JSON.stringify(report.content);
  for (const s of [CAROL_PASSWORD, carol.accessToken.reveal(), botUser.accessToken.reveal(), coturn!.secret!, url]) expect(all).not.toContain(s);
  // The result reaction on the command.
  await waitFor('result reaction', async () => (await events(carol, group)).find((x) => x.type === 'm.reaction' && x.sender === botUser.userId &&
    x.content['m.relates_to']?.event_id === cmd && /^\S+ done: /.test(String(x.content['m.relates_to']?.key))));

  // History: trigger browser, source shared, the browser section kept, no secrets.
  const store = HistoryStore.open(join(dir, 'data', 'history.db'));
  try {
    const [run] = store.recentRuns({ limit: 1, trigger: 'browser' });
    expect(run).toMatchObject({ trigger: 'browser', sourceKind: 'shared', roomId: group, requester: carol.userId });
    // Keyed by who shared which URIs: never the history of a homeserver.
    expect(run!.targetKey).toMatch(/^shared:@carol:localhost turn:127\.0\.0\.1:\d+\?transport=tcp turn:127\.0\.0\.1:\d+\?transport=udp$/);
    const json = store.reportJson(run!.id)!;
    expect(JSON.parse(json).browser.perUri).toHaveLength(2);
    for (const s of [CAROL_PASSWORD, carol.accessToken.reveal(), coturn!.secret!, url.split('/').pop()!]) expect(json).not.toContain(s);
  } finally {
    store.close();
  }

  // The link is spent.
  expect((await fetch(url)).status).toBe(410);
});

test('!voiptest browser inside the DM: the link comes right there, no extra note', async () => {
  const dm = dmRoom;
  expect(dm).toMatch(/^!/);
  const cmd = await send(carol, dm, '!voiptest browser');
  const link = await botNotice(carol, dm, cmd, /one-time link/);
  expect(String(link.content.body)).toMatch(/I post the report here\./);
  await new Promise((r) => setTimeout(r, 500));
  const after = (await events(carol, dm)).slice((await events(carol, dm)).findIndex((e) => e.event_id === cmd) + 1);
  expect(after.filter((e) => e.sender === botUser.userId && /I sent you/.test(String(e.content?.body)))).toEqual([]);
});

test('/healthz and /metrics on the helper\'s server: ok while syncing, runs by trigger', async () => {
  // One ordinary run too, so both triggers show.
  const { room_id: r } = await api(carol, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId, dave.userId] });
  await waitFor('bot joined', async () => Boolean((await api(carol, 'GET', `/rooms/${encodeURIComponent(r)}/joined_members`)).joined?.[botUser.userId]));
  const cmd = await send(carol, r, '!voiptest');
  await botNotice(carol, r, cmd, /^VoIP check of/, 60_000);

  expect(bot!.opsUrl).toBe(bot!.helper!.baseUrl);
  const h = await fetch(`${bot!.opsUrl}/healthz`);
  expect(h.status).toBe(200);
  expect(await h.json()).toMatchObject({ status: 'ok', sync: 'running', helper: 'on' });
  const m = await (await fetch(`${bot!.opsUrl}/metrics`)).text();
  expect(m).toMatch(/^mxv_runs_total\{trigger="browser",result="[a-z]+"\} 1$/m);
  expect(m).toMatch(/^mxv_runs_total\{trigger="command",result="[a-z]+"\} 1$/m);
  expect(m).toMatch(/^mxv_run_duration_seconds_count\{trigger="browser"\} 1$/m);
  expect(m).toContain('mxv_runs_in_progress 0');
});

test('a browser run that cannot run: a notice with the safe reason, ❌ on the command', async () => {
  const cmd = await send(carol, dmRoom, '!voiptest browser');
  const linkEv = await botNotice(carol, dmRoom, cmd, /one-time link/);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/helper\/[A-Za-z0-9_-]{43})/.exec(String(linkEv.content.body))![1]!;
  refuseNext = true;
  const page = await ctx!.newPage();
  await loginAndConsent(page, url);
  const n = await botNotice(carol, dmRoom, cmd, /could not finish/, 60_000);
  await page.close();
  expect(n.content.body).toMatch(/^The browser test for @carol:localhost could not finish: The check could not start: simulated refusal/);
  expect(n.content.body).not.toContain('hunter2-simulated');
  await waitFor('❌ reaction', async () => (await events(carol, dmRoom)).find((x) => x.type === 'm.reaction' && x.sender === botUser.userId &&
    x.content['m.relates_to']?.event_id === cmd && x.content['m.relates_to']?.key === '❌'));
});

test('a helper run as a port scanner: 40 URIs refused, odd ports skipped, a non-TURN service "not a TURN server"', async () => {
  const cmd = await send(carol, dmRoom, '!voiptest browser');
  const linkEv = await botNotice(carol, dmRoom, cmd, /one-time link/);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/helper\/[A-Za-z0-9_-]{43})/.exec(String(linkEv.content.body))![1]!;
  const page = await fetch(url);
  const key = /mxvh=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1]!;
  const api2 = url.replace('/helper/', '/api/helper/');
  const turn = await api(carol, 'GET', '/voip/turnServer');
  const post = (what: string, body: unknown) => fetch(`${api2}/${what}`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', origin: new URL(url).origin, cookie: `mxvh=${key}` },
  });
  const share = (uris: string[]) => post('credentials', { homeserver: hs!.url, turnServer: { ...turn, uris } });

  // 40 hosts on a TURN port: more targets than one run may reach.
  let r = await share(Array.from({ length: 40 }, (_, i) => `turn:127.0.0.${i + 1}:3478`));
  expect(r.status).toBe(400);
  expect(await r.json()).toMatchObject({ error: { code: 'too-many-targets' } });
  // 40 odd ports: nothing that may be tested.
  r = await share(Array.from({ length: 40 }, (_, i) => `turn:127.0.0.1:${20000 + i}?transport=tcp`));
  expect(r.status).toBe(400);
  expect(JSON.stringify(await r.json())).toMatch(/no-usable-uri.*port 20000 is not a TURN port/);

  // The real relays, a web server, a closed TURN port and 30 odd ports.
  const odd = Array.from({ length: 26 }, (_, i) => `turn:127.0.0.1:${22 + i}?transport=tcp`);
  const webUri = `turn:127.0.0.1:${webPort}?transport=tcp`;
  const closed = 'turn:127.0.0.9:3479?transport=tcp';
  r = await share([...turn.uris, webUri, closed, ...odd]);
  expect(r.status).toBe(200);
  const accepted = (await r.json()) as { uris: string[]; skipped: unknown[] };
  expect(accepted.uris).toEqual([...turn.uris, webUri, closed]);
  expect(accepted.skipped).toHaveLength(26);
  expect((await post('results', { userAgent: 'test', perUri: [] })).status).toBe(202);

  const report = await botNotice(carol, dmRoom, cmd, /^VoIP check of/, 60_000);
  const body = String(report.content.body);
  expect(body).toContain('VoIP check of localhost, as shared by @carol:localhost');
  // What answers on the web server's port, or that nothing does on the closed one, is never said.
  const about = `${body}\n${report.content.formatted_body}`.split(/\n|<li>|<br>/).filter((l) => l.includes(`:${webPort}`) || l.includes('127.0.0.9'));
  expect(about.length).toBeGreaterThan(0);
  for (const line of about) expect(line).not.toMatch(/accepts connections|refused|Nothing listens|does not speak STUN|filtered|dropped|silen/i);
  const m = await (await fetch(`${bot!.opsUrl}/metrics`)).text();
  expect(m).not.toMatch(/target="shared:|target="hs:localhost, as shared/);
  const store = HistoryStore.open(join(dir, 'data', 'history.db'));
  try {
    const [run] = store.recentRuns({ limit: 1, trigger: 'browser' });
    expect(run!.targetKey).toBe(`shared:${carol.userId} ${[...turn.uris, webUri, closed].sort().join(' ')}`);
    const json = JSON.parse(store.reportJson(run!.id)!) as { checks: { uri: string | null; summary: string; cause?: string }[] };
    expect(json.checks.filter((c) => c.cause === 'not-turn').map((c) => c.uri).sort()).toEqual([closed, webUri].sort());
    expect(json.checks.filter((c) => c.uri && odd.includes(c.uri))).toHaveLength(26);
  } finally {
    store.close();
  }
});

test('logs never contain a password, token, TURN secret or link token', () => {
  const all = logLines.join('\n');
  expect(all).toContain('browser link sent');
  for (const s of [CAROL_PASSWORD, carol.accessToken.reveal(), botUser.accessToken.reveal(), coturn!.secret!]) expect(all).not.toContain(s);
  expect(all).not.toMatch(/\/helper\/[A-Za-z0-9_-]{43}/);
});
