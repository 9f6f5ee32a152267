import { LinkStore, TOKEN_PATTERN } from '../../src/web/links';
import { RateLimiter, csp } from '../../src/web/http';
import { parseListen } from '../../src/web/service';
import { problemPage } from '../../src/web/pages';

function store(ttlMs = 1000) {
  let now = 1_000_000;
  const s = new LinkStore({ ttlMs, now: () => now, urlFor: (t) => `https://h.example/helper/${t}` });
  return { s, tick: (ms: number) => (now += ms) };
}

test('links: 32 random bytes base64url, bound to user and room, only the hash kept', () => {
  const { s } = store();
  const a = s.createLink('@a:x', '!r:x');
  const b = s.createLink('@a:x', '!r:x');
  expect(a.token).toMatch(TOKEN_PATTERN);
  expect(Buffer.from(a.token, 'base64url')).toHaveLength(32);
  expect(a.token).not.toBe(b.token);
  expect(a.url).toBe(`https://h.example/helper/${a.token}`);
  const found = s.lookup(a.token);
  expect(found.ok && found.link).toMatchObject({ userId: '@a:x', roomId: '!r:x', state: 'issued' });
  expect(JSON.stringify(found)).not.toContain(a.token);
});

test('links: forged, malformed, expired', () => {
  const { s, tick } = store(1000);
  const a = s.createLink('@a:x', '!r:x');
  expect(s.lookup('A'.repeat(43))).toEqual({ ok: false, reason: 'unknown' });
  expect(s.lookup('../etc')).toEqual({ ok: false, reason: 'unknown' });
  tick(1000);
  expect(s.lookup(a.token)).toEqual({ ok: false, reason: 'expired' });
  tick(1000);
  s.sweep();
  expect(s.lookup(a.token)).toEqual({ ok: false, reason: 'unknown' });
  expect(s.size).toBe(0);
});

test('links: one browser session; reload with its key; others refused; spent after consent', () => {
  const { s } = store();
  const a = s.createLink('@a:x', '!r:x');
  const first = s.claim(a.token, null);
  expect(first.ok && first.newKey).toBeTruthy();
  const key = first.ok ? first.newKey! : '';
  expect(s.claim(a.token, key)).toMatchObject({ ok: true, newKey: null });
  expect(s.claim(a.token, null)).toEqual({ ok: false, reason: 'claimed' });
  expect(s.claim(a.token, 'other')).toEqual({ ok: false, reason: 'claimed' });
  const link = first.ok ? first.link : null!;
  s.spend(link);
  expect(s.claim(a.token, null)).toEqual({ ok: false, reason: 'spent' });
  expect(s.claim(a.token, key).ok).toBe(true); // the same browser can still see its results
  expect(s.sessionMatches(link, 'x'.repeat(500))).toBe(false);
});

test('links: bounded under a flood (oldest dropped)', () => {
  const s = new LinkStore({ maxLinks: 3 });
  const first = s.createLink('@a:x', '!r:x');
  for (let i = 0; i < 5; i++) s.createLink('@a:x', '!r:x');
  expect(s.size).toBe(3);
  expect(s.lookup(first.token).ok).toBe(false);
});

test('rate limiter: burst then refill', () => {
  let now = 0;
  const r = new RateLimiter(3, 60, () => now);
  expect([r.take('k'), r.take('k'), r.take('k'), r.take('k')]).toEqual([true, true, true, false]);
  expect(r.take('other')).toBe(true);
  now += 1000;
  expect(r.take('k')).toBe(true);
  expect(r.take('k')).toBe(false);
});

test('csp, listen parsing, problem pages', () => {
  expect(csp({ connectSrc: ['https:', 'http://127.0.0.1:*'] })).toContain("connect-src 'self' https: http://127.0.0.1:*");
  expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
  expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
  expect(() => parseListen('nope')).toThrow(/host:port/);
  expect(() => parseListen('h:99999')).toThrow();
  const p = problemPage('expired');
  expect(p.status).toBe(410);
  expect(p.html).toContain('<link rel="stylesheet" href="/static/helper.css">');
  expect(p.html).not.toMatch(/<script|<style/);
});
