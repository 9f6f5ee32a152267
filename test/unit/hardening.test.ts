// Hostile input: no parse goes quadratic, error replies name the input safely.
import { COMMANDS, interpret } from '../../src/commands';
import { htmlToText, showInput } from '../../src/commands/input-text';

const A = { prefix: '!voiptest', botUserId: '@bot:hs', displayName: 'Bot' };

describe('html to text is a linear scan', () => {
  test('tags become spaces, entities characters, stray < and & stay', () => {
    expect(htmlToText('<b>a</b>&amp;b &lt;c&gt; d &nbsp;e &bogus; 1 < 2')).toBe(' a &b <c> d  e &bogus; 1 < 2');
    expect(htmlToText('x <unclosed')).toBe('x <unclosed');
  });
  test('64 KB of "<" (and of "<a") takes milliseconds, not seconds', () => {
    for (const s of ['<'.repeat(65_536), '<a'.repeat(32_768), '&'.repeat(65_536), '<>'.repeat(32_768)]) {
      const t0 = performance.now();
      htmlToText(s);
      expect(performance.now() - t0).toBeLessThan(250);
    }
  });
  test('a pill followed by a flood of "<" is not parsed past the cap', () => {
    const pill = '<a href="https://matrix.to/#/@bot:hs">Bot</a>: ';
    const t0 = performance.now();
    const d = interpret({ body: 'Bot: hi', format: 'org.matrix.custom.html', formatted_body: pill + '<'.repeat(63_000) }, A, false, COMMANDS);
    expect(performance.now() - t0).toBeLessThan(250);
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
