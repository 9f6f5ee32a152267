import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfig, defaultConfig, ConfigError, renderSample } from '../../src/config';

const TOKEN_ENV = { MXV_ACCESS_TOKEN: 'syt_secret_token' };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'mxv-config-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults come from the one table', () => {
    const c = defaultConfig();
    expect(c.commandPrefix).toBe('!voiptest');
    expect(c.limits.maxConcurrentRuns).toBe(2);
    expect(c.schedule.cron).toBe('0 8 * * *');
    expect(c.homeserver.accessToken).toBeNull();
    expect(c.engine.quality).toBe('audio');
  });

  test('the checked-in sample is current (run `npm run config:sample`)', () => {
    const onDisk = readFileSync(join(__dirname, '..', '..', 'config', 'config.sample.yaml'), 'utf8');
    expect(onDisk).toBe(renderSample());
  });

  test('the sample loads and equals the defaults', () => {
    const c = loadConfig({ text: renderSample(), env: TOKEN_ENV });
    const d = defaultConfig();
    expect({ ...c, homeserver: { ...c.homeserver, accessToken: null } }).toEqual(d);
  });

  test('errors name the bad key path', () => {
    const p = problems(() => loadConfig({
      env: TOKEN_ENV,
      text: 'schedule:\n  cron: "every day"\n  timezone: Mars/Olympus\nlimits:\n  maxConcurrentRuns: 0\nadmins: ["bob"]\nengine:\n  quality: loud\n',
    }));
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^schedule\.cron: .*not a valid cron expression/),
      expect.stringMatching(/^schedule\.timezone: /),
      expect.stringMatching(/^limits\.maxConcurrentRuns: 0 is out of range/),
      expect.stringMatching(/^admins\[0\]: "bob" is not a Matrix user id/),
      expect.stringMatching(/^engine\.quality: "loud" is not one of off, audio, video/),
    ]));
  });

  test('unknown keys are errors with a suggestion', () => {
    const p = problems(() => loadConfig({ env: TOKEN_ENV, text: 'limits:\n  maxconcurrentruns: 3\nfoo: 1\n' }));
    expect(p).toContain('limits.maxconcurrentruns: unknown key (did you mean "maxConcurrentRuns"?)');
    expect(p.some((x) => x.startsWith('foo: unknown key'))).toBe(true);
  });

  test('a way to log in is required', () => {
    expect(problems(() => loadConfig({ text: '' , env: {} }))[0]).toMatch(/^homeserver\.accessToken: missing/);
    const c = loadConfig({ text: 'homeserver:\n  userId: "@bot:localhost"\n', env: { MXV_PASSWORD: 'pw' } });
    expect(c.homeserver.password?.reveal()).toBe('pw');
  });

  test('env overrides and _FILE secrets; secrets never print', () => {
    const f = join(dir, 'secret');
    writeFileSync(f, 'turn-secret-value\n');
    const c = loadConfig({
      text: 'turn:\n  uris: ["turn:127.0.0.1:3478"]\n',
      env: { ...TOKEN_ENV, MXV_TURN_SHARED_SECRET_FILE: f, MXV_LOG_LEVEL: 'debug', MXV_HOMESERVER_URL: 'https://hs.example.org/' },
    });
    expect(c.turn.sharedSecret?.reveal()).toBe('turn-secret-value');
    expect(c.logging.level).toBe('debug');
    expect(c.homeserver.url).toBe('https://hs.example.org');
    const printed = JSON.stringify(c) + inspect(c, { depth: 9 });
    expect(printed).not.toContain('turn-secret-value');
    expect(printed).not.toContain('syt_secret_token');
  });

  test('both VAR and VAR_FILE, or an unreadable file, are errors', () => {
    expect(problems(() => loadConfig({ env: { ...TOKEN_ENV, MXV_ACCESS_TOKEN_FILE: '/x' } }))[0]).toMatch(/both MXV_ACCESS_TOKEN and MXV_ACCESS_TOKEN_FILE/);
    expect(problems(() => loadConfig({ env: { MXV_ACCESS_TOKEN_FILE: join(dir, 'nope') } }))[0]).toMatch(/^homeserver\.accessToken: cannot read MXV_ACCESS_TOKEN_FILE \(ENOENT/);
  });

  test('bad YAML never echoes the line (it may hold a secret)', () => {
    const p = problems(() => loadConfig({ text: 'homeserver:\n  accessToken: "abc\n  url: [', env: {} }));
    expect(p[0]).toMatch(/not valid YAML/);
    expect(p.join()).not.toContain('abc');
  });

  test('cross-field rules', () => {
    expect(problems(() => loadConfig({ env: { ...TOKEN_ENV, MXV_TURN_SHARED_SECRET: 's' } }))).toContain('turn.uris: required when turn.sharedSecret is set');
    const web = problems(() => loadConfig({ env: TOKEN_ENV, text: 'web:\n  enabled: true\n  listen: "0.0.0.0:8080"\n' }));
    expect(web).toEqual([expect.stringMatching(/^web\.publicBaseUrl: required when web\.enabled is true and web\.listen is not a loopback address/)]);
    // On loopback (lab, demo, tests) links use the bound address.
    expect(loadConfig({ env: TOKEN_ENV, text: 'web:\n  enabled: true\n  listen: "127.0.0.1:0"\n' }).web.publicBaseUrl).toBeNull();
    expect(problems(() => loadConfig({ env: TOKEN_ENV, text: 'ops:\n  listen: "127.0.0.1:70000"\n' }))).toEqual(['ops.listen: port of "127.0.0.1:70000" is above 65535']);
  });

  test('browser helper and ops keys: defaults, validation naming the key, env', () => {
    const d = defaultConfig();
    expect(d.web).toEqual({ enabled: false, listen: '127.0.0.1:8080', publicBaseUrl: null, linkTtl: 900, maxSessions: 4, connectSrc: [] });
    expect(d.ops.listen).toBe('127.0.0.1:9464');
    const p = problems(() => loadConfig({
      env: TOKEN_ENV,
      text: 'web:\n  listen: "nowhere"\n  linkTtl: 5\n  maxSessions: 0\n  publicBaseUrl: "ftp://x"\n  connectSrc: ["a b"]\nops:\n  listen: 9464\n',
    }));
    expect(p).toEqual(expect.arrayContaining([
      'web.listen: "nowhere" is not host:port',
      'web.linkTtl: 5 is out of range 60..86400',
      'web.maxSessions: 0 is out of range 1..32',
      'web.publicBaseUrl: "ftp://x" must be http(s)',
      expect.stringMatching(/^web\.connectSrc\[0\]: "a b" is not a CSP source/),
      'ops.listen: must be a string, got 9464',
    ]));
    // MXV_OPS_LISTEN overrides; empty (in YAML or env) disables.
    expect(loadConfig({ env: { ...TOKEN_ENV, MXV_OPS_LISTEN: '0.0.0.0:9100' } }).ops.listen).toBe('0.0.0.0:9100');
    expect(loadConfig({ env: { ...TOKEN_ENV, MXV_OPS_LISTEN: '' }, text: 'ops:\n  listen: "127.0.0.1:1"\n' }).ops.listen).toBe('');
    expect(loadConfig({ env: TOKEN_ENV, text: 'ops:\n  listen: ""\n' }).ops.listen).toBe('');
    const ok = loadConfig({ env: TOKEN_ENV, text: 'web:\n  enabled: true\n  listen: "0.0.0.0:8080"\n  publicBaseUrl: "https://vt.example.org/"\n' });
    expect(ok.web).toMatchObject({ enabled: true, publicBaseUrl: 'https://vt.example.org' });
  });

  test('a missing file is a clear error', () => {
    expect(problems(() => loadConfig({ path: join(dir, 'missing.yaml') }))[0]).toMatch(/cannot read config file \(ENOENT\)/);
  });
});
