// The helper's HTTP fences over a real loopback socket: token, session cookie,
// Origin / fetch metadata, content type, body caps, rate limit, methods,
// headers (CSP, no CORS), clear errors without stack traces, extra routes.
// The engine is a fixture here: only the HTTP layer is under test (the real
// engine runs in web-helper.test.ts).
import { request } from 'node:http';
import { sampleReport } from '../fixtures/report-sample';
import type { CheckOptions } from '../../src/tester/options';
import { DEFAULT_USER_TARGET_POLICY } from '../../src/tester/user-targets';
import { HelperService, type ReportEvent } from '../../src/web/service';

jest.setTimeout(20000);

// Loopback (the helper's own lab range below); the engine is a stub, so nothing is dialled.
const TURN = { uris: ['turn:127.0.0.1:3478?transport=udp', 'stun:127.0.0.1:3478'], username: '1700000000:@bob:example.org', password: 'turn-pw-s3cret', ttl: 86400 };
let helper: HelperService;
let runs: CheckOptions[] = [];
const logs: string[] = [];

beforeAll(async () => {
  helper = new HelperService({
    config: { listen: '127.0.0.1:0' },
    engineOptions: { family: 'ipv4', allowPrivate: true, assumePublic: [], quality: 'off', timeoutMs: 5000, e2e: false },
    userTargets: { ...DEFAULT_USER_TARGET_POLICY, allowRanges: ['127.0.0.0/8'] },
    runCheck: async (o) => {
      runs.push(o);
      return sampleReport();
    },
    logger: { debug: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`), info: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`), warn: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`), error: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`) },
    extraRoutes: { '/metrics': (_req, res) => void res.end('mxv_helper_sessions 0\n') },
  });
  await helper.start();
});
afterAll(() => helper.stop());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  const u = new URL(helper.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

/** A link opened in "a browser": the page load sets the session cookie. */
async function openLink(): Promise<{ token: string; cookie: string; origin: string; page: Answer }> {
  const { url } = helper.createLink('@bob:example.org', '!r:example.org');
  const path = new URL(url).pathname;
  const page = await call('GET', path);
  const set = page.headers['set-cookie'] as string[];
  return { token: path.split('/').pop()!, cookie: set[0]!.split(';')[0]!, origin: new URL(helper.baseUrl).origin, page };
}

const json = (cookie: string, origin: string) => ({ 'content-type': 'application/json', cookie, origin });

test('the page: strict CSP, no CORS, no referrer, HttpOnly SameSite=Strict cookie scoped to the link', async () => {
  const { page, token } = await openLink();
  expect(page.status).toBe(200);
  const h = page.headers;
  expect(h['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  expect(h['access-control-allow-origin']).toBeUndefined();
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['x-frame-options']).toBe('DENY');
  expect(h['cache-control']).toBe('no-store');
  const cookies = h['set-cookie'] as string[];
  expect(cookies).toHaveLength(2);
  expect(cookies[0]).toMatch(new RegExp(`^mxvh=[A-Za-z0-9_-]+; Path=/helper/${token}; Max-Age=\\d+; HttpOnly; SameSite=Strict$`));
  expect(cookies[1]).toContain(`Path=/api/helper/${token};`);
  expect(page.body).not.toMatch(/<script>|<style>| on\w+=/); // no inline script or style
  expect(page.body).toContain('<script src="/static/helper.js" defer></script>');
  const js = await call('GET', '/static/helper.js');
  expect(js.status).toBe(200);
  expect(js.headers['content-type']).toMatch(/^text\/javascript/);
  expect(js.body.length).toBeGreaterThan(2000);
  expect((await call('GET', '/healthz')).body).toBe('{"ok":true}');
  expect((await call('GET', '/metrics')).body).toBe('mxv_helper_sessions 0\n');
  const nf = await call('GET', '/etc/passwd');
  expect(nf.status).toBe(404);
});

test('a second browser (no cookie) cannot take over a link; API calls without the cookie are refused', async () => {
  const { token, origin } = await openLink();
  const other = await call('GET', `/helper/${token}`);
  expect(other.status).toBe(409);
  expect(other.body).toContain('This link is open in another browser');
  const r = await call('POST', `/api/helper/${token}/credentials`, { headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ turnServer: TURN }) });
  expect(r.status).toBe(403);
  expect(JSON.parse(r.body).error.code).toBe('session');
  const wrong = await call('GET', `/api/helper/${token}/report`, { headers: { cookie: 'mxvh=forged' } });
  expect(wrong.status).toBe(403);
});

test('CSRF fences: foreign Origin, cross-site fetch, missing Origin, form content types', async () => {
  const { token, cookie, origin } = await openLink();
  const path = `/api/helper/${token}/credentials`;
  const body = JSON.stringify({ turnServer: TURN });
  const cases: [Record<string, string>, number, string][] = [
    [{ 'content-type': 'application/json', cookie, origin: 'https://evil.example' }, 403, 'origin'],
    [{ 'content-type': 'application/json', cookie, origin, 'sec-fetch-site': 'cross-site' }, 403, 'origin'],
    [{ 'content-type': 'application/json', cookie }, 403, 'origin'],
    [{ 'content-type': 'application/x-www-form-urlencoded', cookie, origin }, 415, 'content-type'],
    [{ 'content-type': 'text/plain', cookie, origin }, 415, 'content-type'],
  ];
  for (const [headers, status, code] of cases) {
    const r = await call('POST', path, { headers, body });
    expect([r.status, JSON.parse(r.body).error.code]).toEqual([status, code]);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  }
  expect(runs).toHaveLength(0);
});

test('bodies are capped, bad JSON and bad credentials are clear 4xx, never a stack trace', async () => {
  const { token, cookie, origin } = await openLink();
  const path = `/api/helper/${token}/credentials`;
  const big = await call('POST', path, { headers: json(cookie, origin), body: JSON.stringify({ turnServer: { ...TURN, pad: 'x'.repeat(20000) } }) });
  expect(big.status).toBe(413);
  const bad = await call('POST', path, { headers: json(cookie, origin), body: '{"turnServer":' });
  expect([bad.status, JSON.parse(bad.body).error.code]).toEqual([400, 'bad-json']);
  const empty = await call('POST', path, { headers: json(cookie, origin), body: '{"turnServer":{}}' });
  expect(empty.status).toBe(400);
  expect(JSON.parse(empty.body).error.message).toMatch(/TURN not configured/);
  const noPw = await call('POST', path, { headers: json(cookie, origin), body: JSON.stringify({ turnServer: { ...TURN, password: '' } }) });
  expect(JSON.parse(noPw.body).error.message).toMatch(/lacks password/);
  const method = await call('GET', path, { headers: { cookie } });
  expect(method.status).toBe(405);
  for (const r of [big, bad, empty, noPw, method]) expect(r.body).not.toMatch(/\n\s+at |\.ts:\d+/);
  expect(runs).toHaveLength(0);
});

test('consent starts one run with kind shared; the token is spent; results only for shared URIs; report event; nothing secret logged', async () => {
  runs = [];
  const { token, cookie, origin } = await openLink();
  const reported = new Promise<ReportEvent>((r) => helper.once('report', r));
  // User targets never get the admin's allowPrivate: a documentation or private address is refused before any run.
  const doc = await call('POST', `/api/helper/${token}/credentials`, { headers: json(cookie, origin), body: JSON.stringify({ turnServer: { ...TURN, uris: ['turn:198.51.100.7:3478', 'turn:10.0.0.1:3478'] } }) });
  expect([doc.status, JSON.parse(doc.body).error.code]).toEqual([400, 'no-usable-uri']);
  const badHs = await call('POST', `/api/helper/${token}/credentials`, { headers: json(cookie, origin), body: JSON.stringify({ homeserver: 'https://u:p@example.org/?x=1', turnServer: TURN }) });
  expect([badHs.status, JSON.parse(badHs.body).error.code]).toEqual([400, 'bad-homeserver']);
  expect(runs).toHaveLength(0);
  const ok = await call('POST', `/api/helper/${token}/credentials`, { headers: json(cookie, origin), body: JSON.stringify({ homeserver: 'https://example.org', turnServer: TURN }) });
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.body)).toEqual({ ok: true, uris: TURN.uris, skipped: [] });
  expect(runs).toHaveLength(1);
  expect(runs[0]!.credentials.kind).toBe('shared');
  expect(runs[0]).toMatchObject({ allowPrivate: false, assumePublic: ['127.0.0.0/8'] });
  const again = await call('POST', `/api/helper/${token}/credentials`, { headers: json(cookie, origin), body: JSON.stringify({ turnServer: TURN }) });
  expect(again.status).toBe(409);
  expect(runs).toHaveLength(1);

  // The answering peer only for shared turn: URIs.
  const offer = await call('POST', `/api/helper/${token}/offer`, { headers: json(cookie, origin), body: JSON.stringify({ uri: TURN.uris[1], sdp: 'v=0\r\n' }) });
  expect([offer.status, JSON.parse(offer.body).error.code]).toEqual([400, 'not-turn']);
  const foreign = await call('POST', `/api/helper/${token}/offer`, { headers: json(cookie, origin), body: JSON.stringify({ uri: 'turn:203.0.113.9:3478', sdp: 'v=0' }) });
  expect(JSON.parse(foreign.body).error.code).toBe('unknown-uri');

  const results = {
    userAgent: 'Mozilla/5.0 Chrome/156.0 <script>alert(1)</script>',
    perUri: [
      { uri: TURN.uris[0], candidates: { host: 2, srflx: 1, relay: 1 }, relayOnly: 1, errors: [{ code: 701, url: TURN.uris[0], text: '<b>x</b>', policy: 'all' }], dataChannel: { ok: true, rttMs: 12.34, connectMs: 300, selectedPair: { local: { type: 'relay', protocol: 'udp', relayProtocol: 'udp' }, remote: { type: 'relay', protocol: 'udp' } } } },
      { uri: 'turn:evil.example:3478', candidates: { host: 1, srflx: 0, relay: 0 }, errors: [], dataChannel: null },
    ],
  };
  const posted = await call('POST', `/api/helper/${token}/results`, { headers: json(cookie, origin), body: JSON.stringify(results) });
  expect(posted.status).toBe(202);
  const ev = await reported;
  expect(ev.userId).toBe('@bob:example.org');
  expect(ev.report.browser!.perUri.map((u) => u.uri)).toEqual([TURN.uris[0]]);
  expect(ev.report.browser!.perUri[0]!.dataChannel!.rttMs).toBe(12.3);

  const rep = await call('GET', `/api/helper/${token}/report`, { headers: { cookie } });
  const view = JSON.parse(rep.body);
  expect(view.state).toBe('done');
  expect(view.html).toContain('From your network');
  expect(view.html).not.toContain('<script>');
  expect(view.html).not.toContain('<b>x</b>');

  // spent: a fresh browser gets the "used" page
  const reuse = await call('GET', `/helper/${token}`);
  expect(reuse.status).toBe(410);
  const all = logs.join('\n') + JSON.stringify(ev.report);
  expect(all).not.toContain(TURN.password);
  expect(all).not.toContain(token);
});

test('per-link rate limit', async () => {
  const { token, cookie } = await openLink();
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) statuses.push((await call('GET', `/api/helper/${token}/report`, { headers: { cookie } })).status);
  expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
  expect(statuses).toContain(429);
});

test('forged, malformed and unknown tokens on the API are clean JSON 404s', async () => {
  for (const t of ['A'.repeat(43), 'short', '..%2F..%2Fetc']) {
    const r = await call('GET', `/api/helper/${t}/report`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error.code).toBe('unknown');
  }
});

test('a client that trickles its headers is cut off within 1-3 s; sockets over maxConnections are refused', async () => {
  const { connect } = await import('node:net');
  const u = new URL(helper.baseUrl);
  const slow = connect(Number(u.port), u.hostname);
  const t0 = Date.now();
  slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
  slow.on('error', () => undefined); // EPIPE once the server cut it off
  const drip = setInterval(() => { if (!slow.destroyed) slow.write('X-Slow: 1\r\n'); }, 200);
  await new Promise((r) => slow.on('close', r));
  clearInterval(drip);
  const heldMs = Date.now() - t0;
  expect(heldMs).toBeGreaterThanOrEqual(1500);
  expect(heldMs).toBeLessThan(3500);

  const capped = new HelperService({ config: { listen: '127.0.0.1:0' }, engineOptions: { family: 'ipv4', allowPrivate: false, assumePublic: [], quality: 'off', timeoutMs: 5000, e2e: false } });
  await capped.start();
  try {
    const cu = new URL(capped.baseUrl);
    const socks = Array.from({ length: 130 }, () => connect(Number(cu.port), cu.hostname));
    await Promise.all(socks.map((s) => new Promise((r) => { s.once('connect', r); s.once('error', r); })));
    const closed = await Promise.all(socks.map((s) => new Promise<boolean>((r) => { s.once('close', () => r(true)); setTimeout(() => r(false), 500); })));
    expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(2); // 128 kept, the rest closed at once
    expect(closed.filter(Boolean).length).toBeLessThan(130);
    for (const s of socks) s.destroy();
  } finally {
    await capped.stop();
  }
});
