// Hostile input: no parse goes quadratic, error replies name the input safely.
import { COMMANDS, interpret } from '../../src/commands';
import { htmlToText, showInput } from '../../src/commands/input-text';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler } from '../../src/bot/scheduler';
import { answerTxnId, CommandJournal } from '../../src/bot/journal';
import { HistoryStore } from '../../src/store';
import { defaultConfig } from '../../src/config';
import { defang, displayUris } from '../../src/ops/defang';
import { privateDataDir } from '../../src/ops/private-files';

const A = { prefix: '!voiptest', botUserId: '@bot:hs', displayName: 'Bot' };

describe('html to text is a linear scan', () => {
  test('tags become spaces, entities characters, stray < and & stay', () => {
    expect(htmlToText('<b>a</b>&amp;b &lt;c&gt; d &nbsp;e &bogus; 1 < 2')).toBe(' a &b <c> d  e &bogus; 1 < 2');
    expect(htmlToText('x <unclosed')).toBe('x <unclosed');
  });
  test('64 KB of "<" (and of "<a") takes milliseconds, not seconds', () => {
    for (const s of ['<'.repeat(65_536), '<a'.repeat(32_768), '&'.repeat(65_536), '<>'.repeat(32_768), '&<'.repeat(32_768), '&x;'.repeat(21_000), `${'&'.repeat(60_000)}>;`]) {
      const t0 = performance.now();
      htmlToText(s);
      expect(performance.now() - t0).toBeLessThan(200);
    }
  });
  test('a pill followed by a flood of "<" is not parsed past the cap', () => {
    const pill = '<a href="https://matrix.to/#/@bot:hs">Bot</a>: ';
    const t0 = performance.now();
    const d = interpret({ body: 'Bot: hi', format: 'org.matrix.custom.html', formatted_body: pill + '<'.repeat(63_000) }, A, false, COMMANDS);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(d).toMatchObject({ kind: 'error', message: expect.stringContaining('"hi"') });
    expect(interpret({ body: 'Bot: status', format: 'org.matrix.custom.html', formatted_body: `${pill}status` }, A, false, COMMANDS)).toMatchObject({ kind: 'command' });
    expect(interpret({ body: 'x'.repeat(2001) }, A, false, COMMANDS).kind).toBe('ignored');
  });
});

describe('error replies name the input, printable and short', () => {
  test('showInput', () => {
    expect(showInput('a\u0000b\u202ec\n  d')).toBe('a?b?c d');
    expect(showInput('x'.repeat(100), 10)).toBe(`${'x'.repeat(10)}…`);
  });
  test('a bad schedule names what was typed', () => {
    const d = interpret({ body: '!voiptest schedule set 25:99 Mars/Olympus' }, A, true, COMMANDS);
    expect(d).toMatchObject({ kind: 'error' });
    expect((d as { message: string }).message).toContain('"25:99 Mars/Olympus" is not a valid cron expression');
    const e = interpret({ body: '!voiptest json 1\u0007x' }, A, false, COMMANDS) as { message: string };
    expect(e.message).toContain('"1?x"');
  });
});

describe('server text shown in chat', () => {
  test('defang: nothing a client would link', () => {
    const s = defang('see https://evil.example.com/login, HTTP://x.org and www.evil.com or mailto:a@b');
    expect(s).toBe('see hxxps[://]evil[.]example[.]com/login, hxxp[://]x[.]org and www[.]evil[.]com or mailto[:]a@b');
    expect(s).not.toMatch(/https?:\/\/|www\.\w|\b\w+\.(com|org)\b/i);
  });
  test('URIs without credentials or query parameters (transport kept)', () => {
    expect(displayUris('x turn:user:pw@h:3478?transport=udp&password=s3cret, turns:h:443?x=1 stun:h')).toBe('x turn:h:3478?transport=udp turns:h:443 stun:h');
  });
});

describe('data files are private', () => {
  test('dir 0700, existing files 0600, new files 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mxv-priv-'));
    const old = process.umask();
    try {
      const data = join(dir, 'data');
      mkdirSync(data, { mode: 0o755 });
      writeFileSync(join(data, 'history.db'), 'x', { mode: 0o644 });
      privateDataDir(data);
      writeFileSync(join(data, 'bot.log'), 'y');
      expect(statSync(data).mode & 0o777).toBe(0o700);
      expect(statSync(join(data, 'history.db')).mode & 0o777).toBe(0o600);
      expect(statSync(join(data, 'bot.log')).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the schedule runs no more often than the minimum', () => {
  test('every second or every 10 min refused at the default (hourly); daily and twice an hour apart pass', () => {
    const s = new Scheduler(defaultConfig(), null, async () => undefined, () => undefined);
    expect(s.tooOften('* * * * * *', 'UTC')).toMatch(/runs every 1 s at times; the scheduled report may run at most every 3600 s/);
    expect(s.tooOften('*/10 * * * *', 'UTC')).toMatch(/every 600 s/);
    expect(s.tooOften('0 8 * * *', 'Europe/Berlin')).toBeNull();
    expect(s.tooOften('0 8,9 * * *', 'UTC')).toBeNull();
    expect(() => s.set('* * * * * *', 'UTC')).toThrow(/at most every 3600 s/);
  });
});

describe('the command journal', () => {
  test('in-flight commands survive a reopen; answered ones are known; one transaction id per command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mxv-journal-'));
    try {
      const path = join(dir, 'h.db');
      let store = HistoryStore.open(path);
      let j = new CommandJournal(store);
      j.begin({ eventId: '$a', roomId: '!r', sender: '@u:x', at: '2030-01-01T10:00:00.000Z' });
      j.begin({ eventId: '$b', roomId: '!r', sender: '@u:x', at: '2030-01-01T10:00:01.000Z' });
      j.end('$b');
      store.close();
      store = HistoryStore.open(path);
      j = new CommandJournal(store);
      expect(j.interrupted().map((c) => c.eventId)).toEqual(['$a']);
      expect(j.known('$a') && j.known('$b') && !j.known('$c')).toBe(true);
      store.close();
      expect(answerTxnId('$a')).toBe(answerTxnId('$a'));
      expect(answerTxnId('$a')).not.toBe(answerTxnId('$b'));
      expect(answerTxnId('$a')).toMatch(/^mxv-answer-[A-Za-z0-9_-]{32}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
