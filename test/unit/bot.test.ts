import { Limits } from '../../src/bot/limits';
import { retryDelay, withRetry, SendFailedError } from '../../src/bot/send';
import { createLogger, scrub } from '../../src/bot/log';
import { chooseSource } from '../../src/bot/source';
import { reportContent, resultEmoji, contentBytes } from '../../src/bot/message';
import { defaultConfig } from '../../src/config';
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
    const log = createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) });
    log.debug('hidden');
    log.info('login', { token: 'syt_zzz_yyy', secret: new Secret('s3cr3t') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/zzz|s3cr3t/);
    expect(JSON.parse(lines[0]!).msg).toBe('login');
  });
});

describe('credential source by requester', () => {
  const bot = { userId: '@bot:hs.example', accessToken: new Secret('t') };
  test('same server: the bot\'s own /voip/turnServer', () => {
    const c = chooseSource('@alice:hs.example', bot, defaultConfig());
    expect(c).toMatchObject({ ok: true, spec: { kind: 'homeserver' } });
  });
  test('other server with a REST secret: minted', () => {
    const cfg = defaultConfig();
    cfg.turn.sharedSecret = new Secret('s');
    cfg.turn.uris = ['turn:t.example:3478'];
    expect(chooseSource('@bob:other.example', bot, cfg)).toMatchObject({ ok: true, spec: { kind: 'secret', uris: ['turn:t.example:3478'], userId: '@bob:other.example' } });
  });
  test('other server, no secret: says the browser helper is not available yet', () => {
    const c = chooseSource('@bob:other.example', bot, defaultConfig());
    expect(c.ok).toBe(false);
    expect((c as { message: string }).message).toMatch(/not available yet/);
  });
});

describe('report message', () => {
  const report = { ...fakeReport({ fails: ['DATA-1'] }), schema: 1, tool: { name: 'mx-voiptest', version: '0' }, quality: [], uris: [] } as unknown as Report;
  test('notice with HTML and a plain body; headline, mentions and footer', () => {
    const c = reportContent(report, { headline: ['⚠️ Regression'], mention: ['@admin:hs'], footer: ['Full JSON report: !voiptest json 1'] });
    expect(c.msgtype).toBe('m.notice');
    expect(c.format).toBe('org.matrix.custom.html');
    expect(c.body).toMatch(/^@admin:hs\n⚠️ Regression/);
    expect(c.body).toContain('Full JSON report: !voiptest json 1');
    expect(c.formatted_body).toContain('href="https://matrix.to/#/%40admin%3Ahs"');
    expect(c['m.mentions']).toEqual({ user_ids: ['@admin:hs'] });
  });
  test('never exceeds the size limit', () => {
    const full = contentBytes(reportContent(report, {}));
    const limit = Math.floor(full * 0.6);
    const small = reportContent(report, {}, limit);
    expect(contentBytes(small)).toBeLessThanOrEqual(limit);
    expect(small.body).toMatch(/too long for one Matrix message/);
  });
  test('result emoji', () => {
    expect(resultEmoji(report)).toBe('✅');
    expect(resultEmoji({ ...report, grade: { ...report.grade, overall: 'Poor' } })).toBe('⚠️');
    expect(resultEmoji({ ...report, security: { verdict: 'unsafe', findings: [] } } as Report)).toBe('❌');
    expect(resultEmoji(null)).toBe('❌');
  });
});
