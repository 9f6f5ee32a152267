// The browser helper end to end in real Chromium, against a real coturn and a
// real Synapse on loopback: a link from HelperService.createLink, a password
// login to the user's homeserver in the page, consent, the browser test
// through TURN over UDP, TCP and TLS to our answering peer, the merged report
// event and the results page (screenshot in test-artifacts/). Plus: an
// expired link, a declined consent (nothing sent), a forged token, a reused link.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';
import type { Logger } from '../../src/web/logger';
import { DEFAULT_USER_TARGET_POLICY } from '../../src/tester/user-targets';
import { HelperService, type ReportEvent } from '../../src/web/service';

jest.setTimeout(120000);

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection', '--ignore-certificate-errors',
];
const PASSWORD = 'alice-web-password';

let coturn: CoturnLab;
let hs: SynapseLab;
let alice: SynapseUser;
let helper: HelperService;
let ctx: BrowserContext;
let profile: string;
const logLines: string[] = [];
const timings: Record<string, number> = {};

const logger: Logger = {
  debug: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
  info: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
  warn: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
  error: (m, f) => logLines.push(`${m} ${JSON.stringify(f ?? {})}`),
};
const routesSeen = (route: string) => logLines.filter((l) => l.startsWith('helper http') && l.includes(`"route":"${route}"`)).length;

function engineOptions() {
  return { family: 'ipv4' as const, allowPrivate: true, assumePublic: [], ca: coturn.caPem ? [coturn.caPem] : [], quality: 'off' as const, timeoutMs: 15000, e2e: false };
}

beforeAll(async () => {
  const t0 = Date.now();
  coturn = await startCoturn({ tls: true });
  const u = coturn.uris();
  hs = await startSynapse({ turnUris: [u.turnUdp, u.turnTcp, u.turns!], turnSharedSecret: coturn.secret, turnUserLifetime: '1h' });
  alice = await hs.registerUser('alice', PASSWORD);
  // Shared URIs are user targets: the lab's loopback range and coturn's ports, by the helper's own policy.
  const ports = [u.turnUdp, u.turns!].map((x) => Number(/:(\d+)\?/.exec(x)![1]));
  helper = new HelperService({
    config: { listen: '127.0.0.1:0', connectSrc: ['http://127.0.0.1:*'] }, engineOptions: engineOptions(), logger,
    userTargets: { ...DEFAULT_USER_TARGET_POLICY, allowRanges: ['127.0.0.0/8'] }, ownPorts: async () => ports,
  });
  await helper.start();
  profile = await mkdtemp(join(tmpdir(), 'mxv-helper-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS, viewport: { width: 1100, height: 900 } });
  timings.setup = Date.now() - t0;
});

afterAll(async () => {
  await ctx?.close().catch(() => undefined);
  await helper?.stop();
  await hs?.stop();
  await coturn?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log('web-helper timings (ms):', JSON.stringify(timings));
});

async function openAndLogin(page: Page, url: string): Promise<void> {
  const resp = await page.goto(url);
  expect(resp?.status()).toBe(200);
  expect(resp?.headers()['content-security-policy']).toContain("script-src 'self'");
  await page.waitForSelector('body[data-ready="1"]');
  await page.fill('#homeserver', hs.url);
  await page.fill('#username', 'alice');
  await page.fill('#password', PASSWORD);
  await page.click('#fetch');
  await page.waitForSelector('#step-consent:not([hidden])', { timeout: 15000 });
}

async function devicesOfAlice(): Promise<string[]> {
  const r = await fetch(`${hs.url}/_matrix/client/v3/devices`, { headers: { authorization: `Bearer ${alice.accessToken.reveal()}` } });
  const j = (await r.json()) as { devices: { device_id: string; display_name?: string }[] };
  return j.devices.map((d) => d.display_name ?? d.device_id);
}

test('link -> login -> consent -> browser test over UDP, TCP, TLS -> merged report event and results page', async () => {
  const link = helper.createLink('@alice:localhost', '!room:localhost');
  expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/helper\/[A-Za-z0-9_-]{43}$/);
  const reported = new Promise<ReportEvent>((resolve) => helper.once('report', resolve));
  const page = await ctx.newPage();
  const consoleErrors: string[] = [];
  // A 404 for .well-known (the lab Synapse has none) is the discovery working as meant.
  page.on('console', (m) => m.type() === 'error' && !/well-known|favicon/.test(m.location().url) && consoleErrors.push(`${m.text()} ${m.location().url.replace(/helper\/.*/, 'helper/…')}`));
  const t0 = Date.now();
  await openAndLogin(page, link.url);
  timings.login = Date.now() - t0;

  // What would be shared: URIs, username, TTL; never the password.
  const shared = await page.textContent('#shared');
  const u = coturn.uris();
  for (const uri of [u.turnUdp, u.turnTcp, u.turns!]) expect(shared).toContain(uri);
  expect(shared).toMatch(/\d+:@alice:localhost/);
  expect(shared).toContain('3600 s');
  const body = await page.textContent('body');
  expect(body).not.toContain(PASSWORD);
  // The page signed its temporary device out again.
  expect((await devicesOfAlice()).some((d) => d.includes('VoIP test helper'))).toBe(false);
  expect(routesSeen('credentials')).toBe(0);

  const t1 = Date.now();
  await page.click('#consent');
  await page.waitForSelector('body[data-state="done"]', { timeout: 60000 });
  timings.consentToResults = Date.now() - t1;
  const ev = await reported;
  expect(ev).toMatchObject({ userId: '@alice:localhost', roomId: '!room:localhost' });
  expect(ev.report.source).toMatchObject({ kind: 'shared', homeserver: 'localhost, as shared by @alice:localhost' });
  expect(ev.report.uris.length).toBeGreaterThanOrEqual(3);

  const b = ev.report.browser!;
  expect(b.userAgent).toMatch(/Chrom/);
  const byTransport: Record<string, string> = { udp: u.turnUdp, tcp: u.turnTcp, tls: u.turns! };
  const summary: Record<string, unknown> = {};
  for (const [transport, uri] of Object.entries(byTransport)) {
    const r = b.perUri.find((x) => x.uri === uri)!;
    summary[transport] = { dc: r.dataChannel, relayOnly: r.relayOnly, candidates: r.candidates, errors: r.errors, peer: r.peer };
  }
  // eslint-disable-next-line no-console
  console.log('browser results:', JSON.stringify(summary));
  for (const [transport, uri] of Object.entries(byTransport)) {
    const r = b.perUri.find((x) => x.uri === uri)!;
    expect(r.relayOnly).toBeGreaterThan(0);
    expect(r.candidates.relay).toBeGreaterThan(0);
    expect(r.dataChannel).toMatchObject({ ok: true, error: null });
    expect(r.dataChannel!.rttMs).toBeGreaterThanOrEqual(0);
    expect(r.dataChannel!.selectedPair!.local).toMatchObject({ type: 'relay', relayProtocol: transport });
    expect(r.peer).toMatchObject({ connected: true, turnTransport: transport });
  }

  // The results page shows the same report, with the browser section.
  const results = await page.textContent('#report');
  expect(results).toContain('VoIP check:');
  expect(results).toContain('From your network');
  await mkdir('test-artifacts', { recursive: true });
  await page.screenshot({ path: 'test-artifacts/helper-results.png', fullPage: true });

  // Nothing secret in the report or the log; no console errors on our page.
  const json = JSON.stringify(ev.report);
  const token = link.url.split('/').pop()!;
  for (const text of [json, logLines.join('\n')]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(token);
    expect(text).not.toContain(alice.accessToken.reveal());
  }
  expect(consoleErrors).toEqual([]);
  expect(routesSeen('credentials')).toBe(1);

  // The link is spent: another browser (no session cookie) gets a clear page.
  const again = await fetch(link.url);
  expect(again.status).toBe(410);
  expect(await again.text()).toContain('This link has been used');
  // The same browser can reload and see its results.
  await page.reload();
  await page.waitForSelector('body[data-state="done"]', { timeout: 15000 });
  await page.close();
});

test('declining sends nothing to the bot', async () => {
  const link = helper.createLink('@alice:localhost', '!room2:localhost');
  const page = await ctx.newPage();
  const apiCalls: string[] = [];
  page.on('request', (r) => r.url().includes('/api/helper/') && apiCalls.push(`${r.method()} ${r.url().split('/').pop()}`));
  let reports = 0;
  const onReport = () => (reports += 1);
  helper.on('report', onReport);
  const before = routesSeen('credentials');
  await openAndLogin(page, link.url);
  await page.click('#decline');
  await page.waitForSelector('#step-declined:not([hidden])');
  await page.waitForTimeout(300);
  expect(routesSeen('credentials')).toBe(before);
  expect(apiCalls.filter((c) => c.startsWith('POST'))).toEqual([]);
  expect(reports).toBe(0);
  expect((await devicesOfAlice()).some((d) => d.includes('VoIP test helper'))).toBe(false);
  helper.off('report', onReport);
  await page.close();
});

test('an expired link and a forged token get clear pages, not stack traces', async () => {
  const short = new HelperService({ config: { listen: '127.0.0.1:0', linkTtlMs: 200 }, engineOptions: engineOptions(), logger });
  await short.start();
  try {
    const link = short.createLink('@alice:localhost', '!room:localhost');
    await new Promise((r) => setTimeout(r, 300));
    const page = await ctx.newPage();
    const resp = await page.goto(link.url);
    expect(resp?.status()).toBe(410);
    expect(await page.textContent('h1')).toBe('This link has expired');
    expect(await page.textContent('body')).toContain('!voiptest browser');

    const forged = await page.goto(`${helper.baseUrl}/helper/${'A'.repeat(43)}`);
    expect(forged?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('This link is not valid');
    const junk = await page.goto(`${helper.baseUrl}/helper/%3Cscript%3E`);
    expect(junk?.status()).toBe(404);
    expect(await page.content()).not.toMatch(/at .*\.ts:\d+|Error:/);
    await page.close();
  } finally {
    await short.stop();
  }
});
