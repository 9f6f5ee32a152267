// The `voiptest check` contract (ARCHITECTURE.md "The command-line contract"):
// exit 0 / 1 / 2, --json parses and carries the schema 1 fields, a refused
// target exits 2 with a clear message, a malformed URI is an ADV-1 finding and
// not a crash, --only narrows the run, secrets never reach the output. Runs
// main() in-process against a loopback coturn (fast), plus one real process
// to prove the exit status reaches the shell.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startCoturn, type CoturnLab } from '../../scripts/lab';
import { main } from '../../src/cli';

jest.setTimeout(60_000);

interface Run {
  code: number;
  out: string;
  err: string;
}

/** main() with stdout/stderr captured. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.env = saved;
  }
}

const LAB = ['--allow-private', '--assume-public', '127.0.0.0/8', '--family', 'ipv4', '--quality', 'off', '--no-e2e'];

describe('voiptest check (in-process)', () => {
  let coturn: CoturnLab;
  let udp: string;
  let tcp: string;
  beforeAll(async () => {
    coturn = await startCoturn({});
    ({ turnUdp: udp, turnTcp: tcp } = coturn.uris('127.0.0.1'));
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  test('exit 0, and --json is schema 1 with every contract field', async () => {
    const r = await cli(['check', '--uri', udp, '--uri', tcp, ...LAB, '--only', 'NET-1,STUN-1,AUTH-2,DATA-1', '--json'], { MXV_TURN_SECRET: coturn.secret! });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.schema).toBe(1);
    expect(j.tool.name).toBe('mx-voiptest');
    expect(typeof j.tool.version).toBe('string');
    expect(new Date(j.startedAt).toISOString()).toBe(j.startedAt);
    expect(typeof j.durationMs).toBe('number');
    expect(j.source).toEqual({ kind: 'secret' });
    expect(Object.keys(j.grade).sort()).toEqual(['ipv4', 'ipv6', 'overall', 'whyNotHigher']);
    expect(['ok', 'warn', 'unsafe']).toContain(j.security.verdict);
    expect(Array.isArray(j.security.findings)).toBe(true);
    expect(j.uris).toHaveLength(2);
    for (const u of j.uris) {
      for (const k of ['uri', 'transport', 'family', 'address', 'grade', 'firstFailure', 'relayedAddress', 'timingsMs']) expect(u).toHaveProperty(k);
      expect(u.grade).toBe('Excellent');
    }
    for (const c of j.checks) {
      for (const k of ['id', 'uri', 'family', 'status', 'severity', 'summary', 'evidence', 'hint']) expect(c).toHaveProperty(k);
    }
    expect(Array.isArray(j.quality)).toBe(true);
    // --only: nothing outside the chosen checks ran (those are absent or skipped).
    const ran = j.checks.filter((c: { status: string }) => c.status !== 'skip').map((c: { id: string }) => c.id);
    expect(ran).not.toContain('DATA-2');
    expect(ran).not.toContain('ACL-1');
    expect(ran).toContain('DATA-1');
    expect(r.out).not.toContain(coturn.secret!);
  });

  test('exit 1 when a finding fails (wrong secret); the secret is not echoed', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const r = await cli(['check', '--uri', udp, '--secret', wrong, ...LAB, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.checks.find((c: { id: string; status: string }) => c.id === 'AUTH-2' && c.status === 'fail').cause).toBe('wrong-secret');
    expect(r.out + r.err).not.toContain(wrong);
  });

  test('text output by default, with the first failure named', async () => {
    const r = await cli(['check', '--uri', udp, '--secret', 'nope', ...LAB]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/AUTH-2/);
    expect(r.out).not.toMatch(/\u001b\[/); // no colour when not a TTY
  });

  test('a malformed URI is an ADV-1 finding, not a crash', async () => {
    const r = await cli(['check', '--uri', 'turn:[::1', '--uri', udp, ...LAB, '--json'], { MXV_TURN_SECRET: coturn.secret! });
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    const adv = j.checks.filter((c: { id: string; cause?: string }) => c.id === 'ADV-1' && c.cause === 'unparsable');
    expect(adv).toHaveLength(1);
    expect(j.uris.map((u: { uri: string }) => u.uri)).toEqual([udp]);
    expect(r.code).toBe(1);
    // Only malformed URIs: still a report, still no crash.
    const only = await cli(['check', '--uri', 'turn:', '--uri', 'bogus://x', ...LAB, '--json'], { MXV_TURN_SECRET: 'x' });
    expect(only.code).toBe(1);
    const oj = JSON.parse(only.out);
    expect(oj.checks.filter((c: { id: string; cause?: string }) => c.id === 'ADV-1' && c.cause === 'unparsable')).toHaveLength(2);
    expect(oj.grade.overall).toBe('Fail');
  });

  test('exit 2: a loopback target without --allow-private, with a clear message', async () => {
    const r = await cli(['check', '--uri', udp, '--secret', 'x', '--quality', 'off']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/127\.0\.0\.1/);
    expect(r.err).toMatch(/--allow-private/);
  });

  test.each([
    [['check', '--uri', 'turn:127.0.0.1', '--secret', 'x', '--bogus']],
    [['check']],
    [['check', '--uri', 'turn:127.0.0.1', '--secret', 'x', '--family', 'ipv5']],
    [['check', '--uri', 'turn:127.0.0.1', '--secret', 'x', '--only', 'NOPE-9']],
    [['frobnicate']],
  ])('exit 2 on bad usage: %j', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^voiptest: /);
    expect(r.err).not.toMatch(/internal error|at .*\.ts:\d+/);
  });
});

describe('voiptest check (a real process)', () => {
  test('the exit status reaches the shell (2 for a refused target)', async () => {
    const root = join(__dirname, '..', '..');
    const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(join(root, 'node_modules', '.bin', 'tsx'), ['src/cli.ts', 'check', '--uri', 'stun:[::1]:3478', '--secret', 'x'], { cwd: root, timeout: 30_000 }, (err, _o, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr: String(stderr) }),
      );
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/allow-private/);
  });
});
