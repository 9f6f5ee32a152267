import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, interpret, helpText, tokenize, type CommandContext, type CommandServices, type Reply } from '../../src/commands';
import { defaultConfig } from '../../src/config';
import { HistoryStore } from '../../src/store';
import { fakeReport } from './bot-fixture';

const A = { prefix: '!voiptest', botUserId: '@voiptest:localhost', displayName: 'VoIP Test' };
const cmd = (body: string, isAdmin = false, extra: Record<string, unknown> = {}) => interpret({ body, ...extra }, A, isAdmin);
const name = (d: ReturnType<typeof cmd>) => (d.kind === 'command' ? d.spec.name : d.kind);

describe('addressing', () => {
  test('prefix form', () => {
    expect(name(cmd('!voiptest'))).toBe('');
    expect(name(cmd('!VoipTest help'))).toBe('help');
    expect(name(cmd('!voiptestfoo'))).toBe('ignored');
    expect(name(cmd('hello !voiptest'))).toBe('ignored');
    expect(name(cmd('!voiptest run'))).toBe('');
  });
  test('mention forms', () => {
    expect(name(cmd('@voiptest:localhost voiptest history'))).toBe('history');
    expect(name(cmd('@voiptest:localhost: status'))).toBe('status');
    expect(name(cmd('@voiptest:localhost'))).toBe('');
    expect(name(cmd('VoIP Test: voiptest status'))).toBe('status');
    expect(name(cmd('@other:localhost voiptest'))).toBe('ignored');
  });
  test('pill in formatted_body', () => {
    const d = cmd('VoIP Test: history 3', false, {
      format: 'org.matrix.custom.html',
      formatted_body: '<a href="https://matrix.to/#/@voiptest:localhost">VoIP Test</a>: voiptest history 3',
    });
    expect(d).toMatchObject({ kind: 'command', args: { n: 3 } });
    const enc = cmd('Bot: status', false, { format: 'org.matrix.custom.html', formatted_body: '<a href="https://matrix.to/#/%40voiptest%3Alocalhost">Bot</a> status' });
    expect(name(enc)).toBe('status');
  });
});

describe('commands from the table', () => {
  test('unknown and malformed commands get a helpful answer', () => {
    const u = cmd('!voiptest frobnicate');
    expect(u).toMatchObject({ kind: 'error' });
    expect((u as { message: string }).message).toMatch(/Unknown command "frobnicate"\. Try: !voiptest help/);
    expect((cmd('!voiptest history lots') as { message: string }).message).toBe('n must be a number, got "lots". Usage: !voiptest history [n]');
    expect((cmd('!voiptest history 500') as { message: string }).message).toMatch(/between 1 and 50/);
    expect((cmd('!voiptest status now') as { message: string }).message).toMatch(/unexpected "now"/);
  });
  test('admin-only commands', () => {
    expect(cmd('!voiptest schedule set 08:30')).toMatchObject({ kind: 'denied' });
    expect(cmd('!voiptest schedule set 08:30', true)).toMatchObject({ kind: 'command', args: { cron: '30 8 * * *' } });
    expect(cmd('!voiptest schedule')).toMatchObject({ kind: 'command' });
  });
  test('cron: bare fields, quoted, with a time zone; bad ones named', () => {
    expect(cmd('!voiptest schedule set 0 9 * * 1-5 Europe/Berlin', true)).toMatchObject({ args: { cron: '0 9 * * 1-5', tz: 'Europe/Berlin' } });
    expect(cmd('!voiptest schedule set "*/5 * * * *"', true)).toMatchObject({ args: { cron: '*/5 * * * *' } });
    expect(cmd('!voiptest schedule set 0 0 9 * * *', true)).toMatchObject({ args: { cron: '0 0 9 * * *' } });
    expect((cmd('!voiptest schedule set 99 * * * *', true) as { message: string }).message).toMatch(/not a valid cron expression/);
    expect((cmd('!voiptest schedule set 08:00 Mars/Base', true) as { message: string }).message).toMatch(/not a known time zone/);
    expect((cmd('!voiptest schedule rooms lobby', true) as { message: string }).message).toMatch(/not a room id/);
  });
  test('help is derived from the table and hides admin commands from others', () => {
    const h = helpText(COMMANDS, '!voiptest', false).text;
    expect(h).toContain('!voiptest history [n] — ');
    expect(h).not.toContain('schedule set');
    expect(h).toContain('!voiptest browser — Test from your own network in your browser');
    expect(helpText(COMMANDS, '!voiptest', true).text).toContain('!voiptest schedule set <cron> [tz] — Set the time of the scheduled report. (admins)');
  });
  test('tokenize keeps quoted words together', () => {
    expect(tokenize(' a "b c"  d ')).toEqual(['a', 'b c', 'd']);
  });
});

describe('running commands against a real store', () => {
  let dir: string;
  let store: HistoryStore;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'mxv-cmd-')); store = HistoryStore.open(join(dir, 'h.db')); });
  afterAll(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });

  function ctx(room = '!a:hs', inAdminRoom = false): { ctx: CommandContext; replies: Reply[] } {
    const replies: Reply[] = [];
    const services: CommandServices = {
      config: defaultConfig(), version: '1.2.3', startedAt: new Date(Date.now() - 3_700_000), now: () => new Date(),
      history: store, historyProblem: null,
      schedule: {
        info: () => ({ enabled: true, cron: '0 8 * * *', timezone: 'UTC', rooms: ['!admin:hs'], nextRun: new Date('2030-01-01T08:00:00Z'), lastRun: null }),
        set: () => { throw new Error('x'); }, setRooms: () => { throw new Error('x'); },
      },
      requestRun: async () => undefined, sendJson: async () => undefined, activeRuns: () => 0,
    };
    return { replies, ctx: { roomId: room, eventId: '$e', sender: '@u:hs', isAdmin: false, inAdminRoom, reply: async (r) => { replies.push(r); }, services } };
  }
  const run = async (body: string, c: ReturnType<typeof ctx>) => {
    const d = interpret({ body }, A, false);
    if (d.kind !== 'command') throw new Error(d.kind);
    await d.spec.run(c.ctx, d.args as never);
    return c.replies.map((r) => r.text).join('\n');
  };

  test('history on an empty store, then with a trend', async () => {
    expect(await run('!voiptest history', ctx())).toBe('No runs yet in this room. Start one with !voiptest.');
    const base = { trigger: 'command' as const, roomId: '!a:hs', requester: '@u:hs', targetKey: 'hs:x', sourceKind: 'homeserver' as const };
    store.saveRun({ ...base, report: fakeReport({ overall: 'Great' }) });
    store.saveRun({ ...base, report: fakeReport({ overall: 'Poor' }) });
    store.saveRun({ ...base, roomId: '!b:hs', error: 'refused' });
    const text = await run('!voiptest history 5', ctx());
    expect(text.split('\n')).toHaveLength(3);
    expect(text).toMatch(/#2 .* ↓ Poor \(IPv4 Poor, IPv6 Fail\), security ok/);
    expect(await run('!voiptest history', ctx('!admin:hs', true))).toMatch(/#3 .*no report: refused/);
  });

  test('status', async () => {
    const t = await run('!voiptest status', ctx());
    expect(t).toContain('mx-voiptest 1.2.3, up 1h 1m');
    expect(t).toContain('Next scheduled run: 2030-01-01 08:00 UTC');
    expect(t).toContain('Browser helper (!voiptest browser): off');
  });

  test('json of another room is not handed out', async () => {
    expect(await run('!voiptest json 3', ctx())).toBe('No run #3 in this room.');
  });
});
