import { createLogger, formatLine, type LogSink } from '../../src/ops/log';
import { clearSecretValues, isSensitiveKey, redactFields, registerSecretValue, scrubText } from '../../src/ops/redact';
import { Secret } from '../../src/tester/secret';

function capture(isTTY = false): { sink: LogSink; lines: string[] } {
  const lines: string[] = [];
  return { sink: { isTTY, write: (s: string) => lines.push(s) }, lines };
}
const fixed = () => new Date('2025-01-02T03:04:05.000Z');

afterEach(() => clearSecretValues());

describe('logger format', () => {
  test('JSON lines when the sink is not a TTY, text when it is', () => {
    const a = capture(false);
    createLogger({ sink: a.sink, now: fixed }).info('hello', { n: 1 });
    expect(JSON.parse(a.lines[0]!)).toEqual({ time: '2025-01-02T03:04:05.000Z', level: 'info', msg: 'hello', n: 1 });
    expect(a.lines[0]!.endsWith('\n')).toBe(true);
    const b = capture(true);
    createLogger({ sink: b.sink, now: fixed }).warn('hi there', { room: '!a:b', s: 'two words' });
    expect(b.lines[0]).toBe('2025-01-02T03:04:05.000Z WARN  hi there room=!a:b s="two words"\n');
  });

  test('explicit format wins over the TTY guess', () => {
    const a = capture(true);
    createLogger({ sink: a.sink, format: 'json' }).info('x');
    expect(() => JSON.parse(a.lines[0]!)).not.toThrow();
    const b = capture(false);
    createLogger({ sink: b.sink, format: 'text' }).info('x');
    expect(b.lines[0]).toMatch(/ INFO  x\n$/);
  });

  test('levels filter, child bindings repeat, fields cannot overwrite fixed keys', () => {
    const c = capture();
    const log = createLogger({ sink: c.sink, level: 'warn' });
    log.info('dropped');
    log.debug('dropped');
    const child = log.child({ component: 'sched' });
    child.error('boom', { level: 'fake', msg: 'fake' });
    expect(c.lines).toHaveLength(1);
    const rec = JSON.parse(c.lines[0]!);
    expect(rec).toMatchObject({ level: 'error', msg: 'boom', component: 'sched', 'field.level': 'fake', 'field.msg': 'fake' });
    expect(log.enabled('info')).toBe(false);
    expect(log.enabled('error')).toBe(true);
  });

  test('a text message cannot forge a second line', () => {
    expect(formatLine(false, 't', 'info', 'a\nINFO forged', {})).not.toContain('\n');
  });

  test('a throwing sink or hostile fields never throw', () => {
    const log = createLogger({ sink: { write: () => { throw new Error('EPIPE'); } } });
    expect(() => log.info('x')).not.toThrow();
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    const bad = { get boom() { throw new Error('getter'); } };
    const c = capture();
    createLogger({ sink: c.sink }).info('x', { cyc, bad, big: 10n, fn: () => 1, buf: Buffer.alloc(3), when: new Date(0) });
    const rec = JSON.parse(c.lines[0]!);
    expect(rec.cyc.self).toBe('[circular]');
    expect(rec.bad.boom).toBe('[unreadable]');
    expect(rec.big).toBe('10');
    expect(rec.buf).toBe('[3 bytes]');
    expect(rec.when).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('redaction guarantee', () => {
  const SECRET = 'hunter2-very-secret-value';
  const TOKEN = 'syt_Ym90_abcdefGHIJ_0a1b2c';

  test.each([false, true])('no credential reaches the output (tty=%s)', (tty) => {
    const c = capture(tty);
    const log = createLogger({ sink: c.sink, level: 'debug' });
    const s = new Secret(SECRET);
    log.info('login', { password: 'pw-plain-123', access_token: TOKEN, accessToken: 'abc123xyz', sharedSecret: s, token: 42 });
    log.info('nested', { cfg: { homeserver: { password: 'pw-plain-123' }, turn: { sharedSecret: 'plain-shared-sec' } }, list: [{ secret: 'plain-shared-sec' }] });
    log.info('a secret object', { value: s, arr: [s], map: new Map([['k', s]]) });
    log.error('failed', { err: new Error(`request https://hs/_matrix?access_token=${TOKEN} failed`) });
    log.warn(`msg with Authorization: Bearer ${TOKEN} and turn:user:pw@host`);
    log.info('headers', { headers: { Authorization: `Bearer ${TOKEN}`, Cookie: 'sid=1' } });
    const out = c.lines.join('');
    for (const leak of [SECRET, TOKEN, 'pw-plain-123', 'abc123xyz', 'plain-shared-sec', 'user:pw@', 'sid=1']) expect(out).not.toContain(leak);
    expect(out).toContain('[redacted]');
  });

  test('registered raw secret values are scrubbed from any string', () => {
    registerSecretValue(new Secret(SECRET));
    const c = capture();
    createLogger({ sink: c.sink }).error(`coturn said: bad key ${SECRET}`, { detail: `x${SECRET}y`, err: new Error(SECRET) });
    expect(c.lines[0]).not.toContain(SECRET);
  });

  test('short registered values are ignored (would mangle text)', () => {
    registerSecretValue('abc');
    expect(scrubText('abcdef')).toBe('abcdef');
  });

  test('sensitive key names', () => {
    for (const k of ['password', 'PASSWORD', 'access_token', 'accessToken', 'turn_shared_secret', 'sharedSecret', 'token', 'refresh_token', 'Authorization', 'apiKey', 'pkeyPassphrase']) {
      expect(isSensitiveKey(k)).toBe(true);
    }
    for (const k of ['userId', 'room', 'grade', 'secretFile', 'tokens', 'durationMs', 'uri']) expect(isSensitiveKey(k)).toBe(false);
  });

  test('ordinary values survive', () => {
    expect(redactFields({ room: '!r:hs', grade: 'Good', n: 3, ok: true, none: null, uri: 'turn:turn.example.org?transport=udp' })).toEqual({
      room: '!r:hs', grade: 'Good', n: 3, ok: true, none: null, uri: 'turn:turn.example.org?transport=udp',
    });
  });

  test('errors keep name, message and code only', () => {
    const e = Object.assign(new Error('nope'), { code: 'ECONNREFUSED', body: { password: 'x' }, headers: { a: 1 } });
    expect(redactFields({ err: e })).toEqual({ err: { name: 'Error', message: 'nope', code: 'ECONNREFUSED' } });
  });
});
