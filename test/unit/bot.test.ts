import { Limits } from '../../src/bot/limits';
import { Throttle } from '../../src/bot/throttle';
import { retryDelay, withRetry, SendFailedError } from '../../src/bot/send';
import { createLogger } from '../../src/ops/log';
import { scrubText as scrub } from '../../src/ops/redact';
import { chooseSource } from '../../src/bot/source';
import { linkMessage, linkSentNote } from '../../src/bot/link-message';
import { sameListen, startEndpoints } from '../../src/bot/endpoints';
import { VoiptestMetrics } from '../../src/ops/metrics';
import { reportTargetKey } from '../../src/store';
import { asReply, contentBytes, inThread, reportContent, reportMessages, resultReaction, roomLink } from '../../src/bot/message';
import { engineOptionsOf, hostsLookup, sinceTime } from '../../src/bot/runs';
import { sampleReport } from '../fixtures/report-sample';
import { defaultConfig, loadConfig } from '../../src/config';
import { Secret } from '../../src/tester/secret';
import type { Report } from '../../src/tester/report';
import { fakeReport } from './bot-fixture';

describe('limits', () => {
  test('user and room cooldowns, concurrency bound without a queue', () => {
    let now = 0;
    const l = new Limits({ userCooldownSeconds: 60, roomCooldownSeconds: 20, maxConcurrentRuns: 2, expectedRunMs: 10_000 }, () => now);
    const a = l.admit('@a:hs', '!r');
    expect(a.ok).toBe(true);
    expect(l.admit('@a:hs', '!other')).toMatchObject({ ok: false, reason: 'user-cooldown', retryAfterS: 60 });
    expect(l.admit('@b:hs', '!r')).toMatchObject({ ok: false, reason: 'room-cooldown', retryAfterS: 20 });
    const b = l.admit('@b:hs', '!r2');
    expect(b.ok).toBe(true);
    now = 3000;
    expect(l.admit('@c:hs', '!r3')).toMatchObject({ ok: false, reason: 'busy', retryAfterS: 7 });
    if (a.ok) { a.release(); a.release(); }
    expect(l.active).toBe(1);
    expect(l.admit('@c:hs', '!r3').ok).toBe(true);
    now = 100_000;
    l.prune();
    expect(l.admit('@a:hs', '!r').ok).toBe(false); // still busy (2 running), cooldown over
  });
});

describe('retries', () => {
  test('429 waits what the server says; 5xx and connection errors back off; 4xx final', () => {
    expect(retryDelay({ statusCode: 429, errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: 1234 }, 0)).toBe(1234);
    expect(retryDelay({ statusCode: 502 }, 1)).toBe(1000);
    expect(retryDelay({ code: 'ECONNREFUSED' }, 0)).toBe(500);
    expect(retryDelay({ statusCode: 403, errcode: 'M_FORBIDDEN' }, 0)).toBeNull();
  });
  test('withRetry succeeds after transient errors and gives up at the deadline', async () => {
    let n = 0;
    const waits: number[] = [];
    const sleep = async (ms: number) => { waits.push(ms); };
    await expect(withRetry('x', async () => { if (n++ < 2) throw { statusCode: 429, retryAfterMs: 7 }; return 'ok'; }, { deadlineMs: 1000, sleep })).resolves.toBe('ok');
    expect(waits).toEqual([7, 7]);
    await expect(withRetry('x', async () => { throw { statusCode: 400, errcode: 'M_BAD_JSON' }; }, { deadlineMs: 1000, sleep })).rejects.toThrow(SendFailedError);
    await expect(withRetry('x', async () => { throw { statusCode: 429, retryAfterMs: 5000 }; }, { deadlineMs: 100, sleep })).rejects.toThrow(/after retrying/);
  });
});

describe('logging never shows secrets', () => {
  test('scrub', () => {
    expect(scrub('GET /sync?access_token=syt_abc_def&x=1')).not.toContain('syt_abc_def');
    expect(scrub('{"password":"hunter2"}')).toBe('{"password":"[redacted]"}');
    expect(scrub('Authorization: Bearer abc123')).not.toContain('abc123');
    expect(scrub('turn:user:pw@host')).toBe('turn:[redacted]@host');
  });
  test('logger lines are scrubbed, JSON or text', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', format: 'json', sink: { write: (l: string) => lines.push(l) } });
    log.debug('hidden');
    log.info('login', { token: 'syt_zzz_yyy', secret: new Secret('s3cr3t') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/zzz|s3cr3t/);
    expect(JSON.parse(lines[0]!).msg).toBe('login');
  });
});

describe('credential source by requester', () => {
  const bot = { userId: '@bot:hs.example', accessToken: new Secret('t') };
  const off = { helper: false };
  const on = { helper: true };
  test('same server: the bot\'s own /voip/turnServer', () => {
    expect(chooseSource('@alice:hs.example', bot, defaultConfig(), off)).toMatchObject({ kind: 'run', spec: { kind: 'homeserver' } });
    expect(chooseSource('@alice:hs.example', bot, defaultConfig(), on)).toMatchObject({ kind: 'run', spec: { kind: 'homeserver' } });
  });
  test('other server with a REST secret: minted (even with the helper on)', () => {
    const cfg = defaultConfig();
    cfg.turn.sharedSecret = new Secret('s');
    cfg.turn.uris = ['turn:t.example:3478'];
    expect(chooseSource('@bob:other.example', bot, cfg, on)).toMatchObject({ kind: 'run', spec: { kind: 'secret', uris: ['turn:t.example:3478'], userId: '@bob:other.example' } });
  });
  test('other server, no secret: a helper link when the helper runs, else an explanation naming web.enabled', () => {
    expect(chooseSource('@bob:other.example', bot, defaultConfig(), on)).toEqual({ kind: 'browser', reason: 'other-server' });
    const c = chooseSource('@bob:other.example', bot, defaultConfig(), off);
    expect(c.kind).toBe('refuse');
    expect((c as { message: string }).message).toMatch(/not enabled on this bot \(its operator sets web\.enabled\)/);
    expect((c as { message: string }).message).not.toMatch(/not available yet/);
  });
  test('!voiptest browser: always a link when the helper runs; a clear no otherwise; the schedule never asks', () => {
    const cfg = defaultConfig();
    cfg.turn.sharedSecret = new Secret('s');
    cfg.turn.uris = ['turn:t.example:3478'];
    expect(chooseSource('@alice:hs.example', bot, cfg, { browser: true, helper: true })).toEqual({ kind: 'browser', reason: 'asked' });
    expect(chooseSource('@bob:other.example', bot, cfg, { browser: true, helper: true })).toEqual({ kind: 'browser', reason: 'asked' });
    const no = chooseSource('@alice:hs.example', bot, cfg, { browser: true, helper: false });
    expect(no).toMatchObject({ kind: 'refuse', message: expect.stringMatching(/browser helper is not enabled/) });
    expect(chooseSource(null, bot, cfg, { browser: true, helper: true })).toMatchObject({ kind: 'run' });
  });
});

describe('browser link messages', () => {
  const now = new Date('2026-03-01T10:00:00Z');
  const base = { url: 'https://vt.example/helper/AbC_-', expiresAt: new Date('2026-03-01T10:15:00Z'), now, prefix: '!voiptest', requesterServer: 'other.example', botServer: 'hs.example' };
  test('the DM says what is tested, what is shared, where the report goes and when the link expires', () => {
    const m = linkMessage({ ...base, reason: 'other-server', reportRoom: '!group:hs.example' });
    expect(m.msgtype).toBe('m.notice');
    expect(m.body).toContain(base.url);
    expect(m.body).toMatch(/You are on other\.example, and I can only get TURN credentials from hs\.example/);
    expect(m.body).toMatch(/TURN server addresses and a temporary TURN username and password/);
    expect(m.body).toMatch(/never store, log or post them/);
    expect(m.body).toMatch(/in the room you asked from \(!group:hs\.example\)/);
    expect(m.body).toMatch(/expires at 10:15 UTC \(in 15 min\)/);
    expect(m.body).toContain('!voiptest browser');
    expect(m.formatted_body).toContain(`<a href="${base.url}">`);
    const here = linkMessage({ ...base, reason: 'asked', reportRoom: 'here' });
    expect(here.body).toMatch(/I post the report here\./);
  });
  test('HTML is escaped', () => {
    const m = linkMessage({ ...base, url: 'https://x/"><script>', reason: 'asked', reportRoom: 'here' });
    expect(m.formatted_body).not.toContain('<script>');
  });
  test('the group room hears about the DM, never the link', () => {
    const n = linkSentNote('!dm:hs.example', 15);
    expect(n).toMatch(/I sent you a one-time link in a direct chat \(!dm:hs\.example\)/);
    expect(n).not.toMatch(/https?:/);
  });
});

describe('endpoints and targets', () => {
  test('same listen address', () => {
    expect(sameListen('127.0.0.1:0', ' 127.0.0.1:0')).toBe(true);
    expect(sameListen('127.0.0.1:9464', '127.0.0.1:8080')).toBe(false);
  });
  test('a browser report\'s target is its homeserver, else its URI set', () => {
    expect(reportTargetKey({ source: { homeserver: 'HTTPS://Matrix.Example/' }, uris: [] })).toBe('hs:https://matrix.example');
    expect(reportTargetKey({ source: {}, uris: [{ uri: 'turn:b' }, { uri: 'turn:a' }, { uri: 'turn:a' }] })).toBe('uris:turn:a turn:b');
  });
});

describe('report message', () => {
  const report = { ...fakeReport({ fails: ['DATA-1'] }), schema: 1, tool: { name: 'mx-voiptest', version: '0' }, quality: [], uris: [] } as unknown as Report;
  test('notice with HTML and a plain body; the changes under the verdict, mentions and footer', () => {
    const c = reportContent(report, { headline: ['⚠️ Regression'], mention: ['@admin:hs'], footer: ['Full JSON report: !voiptest json 1'] });
    expect(c.msgtype).toBe('m.notice');
    expect(c.format).toBe('org.matrix.custom.html');
    expect(c.body).toMatch(/^@admin:hs\n\nVoIP check of [^\n]+\n⚠️ Regression\n/);
    expect(c.body).toContain('Full JSON report: !voiptest json 1');
    expect(c.formatted_body).toContain('href="https://matrix.to/#/%40admin%3Ahs"');
    expect(c.formatted_body).toMatch(/<\/h2>\n<p><strong>⚠️ Regression<\/strong><\/p>/);
    expect(c['m.mentions']).toEqual({ user_ids: ['@admin:hs'] });
  });
  test('the summary is a reply to the command; the details are a thread under it, each replying to the previous', () => {
    const m = reportMessages(sampleReport(), { headline: ['Unchanged since run #1, 02:55 UTC.'] });
    expect(m.summary.formatted_body).not.toContain('<details');
    expect(m.summary.body.split('\n')[1]).toBe('Unchanged since run #1, 02:55 UTC.');
    expect(m.thread.length).toBeGreaterThanOrEqual(4);
    expect(asReply(m.summary, '$cmd')['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: '$cmd' } });
    expect(inThread(m.thread[1]!, '$root', '$prev')['m.relates_to']).toEqual({ rel_type: 'm.thread', event_id: '$root', is_falling_back: true, 'm.in_reply_to': { event_id: '$prev' } });
    for (const t of m.thread) expect(contentBytes(t)).toBeLessThan(60_000);
  });
  test('never exceeds the size limit', () => {
    const full = contentBytes(reportContent(report, {}));
    const limit = Math.floor(full * 0.6);
    const small = reportContent(report, {}, limit);
    expect(contentBytes(small)).toBeLessThanOrEqual(limit);
    expect(small.body).toMatch(/too long for Matrix/);
  });
  test('result reaction: done and the grade; ❌ only when the run could not be done', () => {
    expect(resultReaction(report)).toBe(`✅ done: ${report.grade.overall}`);
    expect(resultReaction({ ...report, grade: { ...report.grade, overall: 'Poor' } })).toBe('⚠️ done: Poor');
    expect(resultReaction({ ...report, grade: { ...report.grade, overall: 'Fail' } })).toBe('🔴 done: Fail');
    expect(resultReaction({ ...report, grade: { ...report.grade, overall: 'Poor' }, security: { verdict: 'unsafe', findings: [] } } as Report)).toBe('⛔ done: Poor, unsafe');
    expect(resultReaction(null)).toBe('❌');
  });
  test('engine.hosts (lab use): listed names answer from the list per family, without DNS', async () => {
    const l = hostsLookup(['turn.lab.test=198.18.0.2', 'TURN.lab.test=2001:db8::2', 'v4only.lab.test=198.18.0.3']);
    expect(await l('Turn.Lab.Test', 'A')).toEqual({ addrs: ['198.18.0.2'] });
    expect(await l('turn.lab.test', 'AAAA')).toEqual({ addrs: ['2001:db8::2'] });
    expect(await l('v4only.lab.test', 'AAAA')).toEqual({ addrs: [], code: 'ENODATA' });
  });
  test('engine.rtcFederationUrl (lab use) reaches the engine as the RTC-4 federation URL; unset, the RTC part is discovery', () => {
    const c = defaultConfig();
    expect(engineOptionsOf(c.engine).rtc).toBeUndefined();
    const lab = loadConfig({ text: 'engine:\n  rtcFederationUrl: http://127.0.0.1:8448/\n', env: { MXV_ACCESS_TOKEN: 'syt_x' } });
    expect(engineOptionsOf(lab.engine).rtc).toEqual({ federationUrl: 'http://127.0.0.1:8448' });
    expect(() => loadConfig({ text: 'engine:\n  rtcFederationUrl: ftp://x\n', env: { MXV_ACCESS_TOKEN: 'syt_x' } })).toThrow(/engine\.rtcFederationUrl/);
  });
  test('"since" time: the clock on the same day, the date otherwise; room links are matrix.to pills', () => {
    expect(sinceTime('2026-01-02T02:55:10Z', '2026-01-02T08:00:00Z')).toBe('02:55 UTC');
    expect(sinceTime('2026-01-01T02:55:10Z', '2026-01-02T08:00:00Z')).toBe('2026-01-01 02:55 UTC');
    expect(roomLink('!abc', 'VoIP test (unencrypted)', 'hs.example').html).toBe('<a href="https://matrix.to/#/!abc?via=hs.example">VoIP test (unencrypted)</a>');
  });
});

describe('ops endpoints (real HTTP on loopback)', () => {
  const metrics = () => new VoiptestMetrics({ version: 't' });
  const base = (listen: string) => {
    const c = defaultConfig();
    c.ops.listen = listen;
    return c;
  };
  const opts = (config: ReturnType<typeof defaultConfig>, lines: string[], ok = false) => ({
    config, metrics: metrics(), health: () => ({ ok, detail: { sync: ok ? 'running' : 'starting' } }),
    engineOptions: { family: 'ipv4' as const, allowPrivate: true, assumePublic: [], quality: 'off' as const, timeoutMs: 1000, e2e: false },
    runCheck: async () => { throw new Error('not used'); },
    log: createLogger({ level: 'debug', format: 'json', sink: { write: (l: string) => lines.push(l) } }),
  });

  test('own server: /healthz 503 until healthy, /metrics; empty listen disables', async () => {
    const lines: string[] = [];
    const ep = await startEndpoints(opts(base('127.0.0.1:0'), lines));
    try {
      expect(ep.helper).toBeNull();
      const h = await fetch(`${ep.opsUrl}/healthz`);
      expect(h.status).toBe(503);
      expect(await h.json()).toMatchObject({ status: 'unhealthy', sync: 'starting' });
      expect(await (await fetch(`${ep.opsUrl}/metrics`)).text()).toContain('mxv_build_info{version="t"} 1');
    } finally {
      await ep.stop();
    }
    const off = await startEndpoints(opts(base(''), lines));
    expect(off.opsUrl).toBeNull();
    await off.stop();
  });

  test('a port in use is logged, not fatal', async () => {
    const lines: string[] = [];
    const first = await startEndpoints(opts(base('127.0.0.1:0'), lines, true));
    try {
      const taken = first.opsUrl!.replace('http://', '');
      const second = await startEndpoints(opts(base(taken), lines));
      expect(second.opsUrl).toBeNull();
      expect(lines.join('\n')).toMatch(/ops endpoints could not listen.*EADDRINUSE/);
      await second.stop();
    } finally {
      await first.stop();
    }
  });
});

describe('throttle', () => {
  test('one pass per window per key, bounded in size', () => {
    let now = 0;
    const t = new Throttle(10_000, () => now, 3);
    expect(t.take('a')).toBe(true);
    expect(t.take('a')).toBe(false);
    expect(t.waitS('a')).toBe(10);
    expect(t.take('b')).toBe(true);
    now = 9_999;
    expect(t.waitS('a')).toBe(1);
    now = 10_000;
    expect(t.take('a')).toBe(true);
    for (const k of ['c', 'd', 'e', 'f']) t.mark(k);
    expect(t.size).toBe(3);
    expect(new Throttle(0).take('x') && new Throttle(0).take('x')).toBe(true);
  });
});
