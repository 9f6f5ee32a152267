// `npm run demo -- --once` for real: coturn (as root: the lab's hardened
// coturn in a network namespace) + the lab MatrixRTC stack (LiveKit, the
// lk-jwt-service stand-in, Synapse with msc4143) + the bot, an admin room,
// `!voiptest`, the report printed; twice in a row (a second run must not trip
// over the first), once with a fault of the scenario lab, nothing left behind.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEMO_FAULTS, demoUsage, parseDemoArgs } from '../../scripts/demo';

const ROOT = resolve(__dirname, '..', '..');

const isRoot = process.getuid?.() === 0;

function runDemo(dir: string, extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/demo.ts', '--once', '--quality', 'off', '--timeout-ms', '60000', ...extra],
      { cwd: ROOT, env: { ...process.env, MXV_DEMO_DIR: dir }, timeout: 150_000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function leftovers(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' }).split('\n').filter((l) => l && !l.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxv-demo-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('arguments', () => {
    expect(parseDemoArgs([])).toEqual({ once: false, keep: false, quality: 'audio', timeoutMs: 120_000 });
    expect(parseDemoArgs(['--once', '--keep', '--port', '8448', '--quality', 'off'])).toMatchObject({ once: true, keep: true, port: 8448, quality: 'off' });
    expect(() => parseDemoArgs(['--port', '0'])).toThrow(/port/);
    expect(() => parseDemoArgs(['--quality', 'loud'])).toThrow(/quality/);
    expect(() => parseDemoArgs(['--bogus'])).toThrow(/unknown option/);
    expect(parseDemoArgs(['--fault', 'loopback-peers'])).toMatchObject({ fault: 'loopback-peers' });
    expect(() => parseDemoArgs(['--fault', 'healthy'])).toThrow(/--fault must be one of: .*relay-range-blocked/);
    for (const s of DEMO_FAULTS) expect(demoUsage()).toContain(s.name);
    expect(DEMO_FAULTS.length).toBeGreaterThan(10);
  });

  test('demo.sh is valid bash', () => {
    expect(() => execFileSync('bash', ['-n', join(ROOT, 'scripts', 'demo.sh')])).not.toThrow();
  });

  test.each([1, 2])('run %i: prints the report and how to log in, then stops everything', async () => {
    const r = await runDemo(dir);
    if (r.code !== 0) throw new Error(`demo exited ${r.code}\n${r.stderr}\n${r.stdout}`);
    // Both call paths in the first report: the TURN family grades and the MatrixRTC grade beside them.
    expect(r.stdout).toMatch(/VoIP check of http:\/\/127\.0\.0\.1:\d+: \w+ \(IPv4 [^;]+; IPv6 [^;]+; MatrixRTC (Excellent|Great|Good|Poor|Fail)\)/);
    expect(r.stdout).toContain('Servers:');
    expect(r.stdout).toMatch(/MatrixRTC: +LiveKit ws:\/\/\S+; authorization service http:\/\/127\.0\.0\.1:\d+ is the lab's stand-in for lk-jwt-service/);
    if (isRoot) {
      // A healthy production setup (the lab's hardened coturn on addresses treated as public, LiveKit in its own
      // namespace): TURN Excellent in both families, safe; MatrixRTC Great, its one finding that LiveKit hands out no TURN.
      expect(r.stdout).toMatch(/: Excellent \(IPv4 Excellent; IPv6 Excellent; MatrixRTC Great\)\. Security: ok\./);
      expect(r.stdout).toMatch(/Fix first:\n1\. LiveKit's TURN servers \(RTC-6, warning\)/);
      expect(r.stdout).not.toMatch(/ACL-1|loopback ACL|\n2\. /);
    }
    expect(r.stdout).toMatch(/Homeserver: +http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/User: +@admin:localhost/);
    expect(r.stdout).toMatch(/Password: +\S{8,}/);
    // The bot's token, the TURN secret, OpenID tokens, LiveKit JWTs and its API secret are never printed.
    const all = r.stdout + r.stderr;
    expect(all).not.toMatch(/syt_[A-Za-z0-9]/);
    expect(all).not.toMatch(/static-auth-secret|MXV_ACCESS_TOKEN=/);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(all).not.toMatch(/"(password|credential|jwt|access_token|openid_token)"|api_?secret|LIVEKIT_SECRET/i);
    expect(readdirSync(dir)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  }, 160_000);

  (isRoot ? test : test.skip)('--fault relay-range-blocked: the same stack with one fault, and the report names it first', async () => {
    const r = await runDemo(dir, ['--fault', 'relay-range-blocked']);
    if (r.code !== 0) throw new Error(`demo exited ${r.code}\n${r.stderr}\n${r.stdout}`);
    expect(r.stderr).toContain('network namespace: relay-range-blocked');
    expect(r.stdout).toMatch(/Fix first:\n1\. Relayed data \(DATA-1\)/);
    expect(readdirSync(dir)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  }, 160_000);
});
