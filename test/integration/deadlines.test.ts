// Deadlines hold whatever the server does: `voiptest check` (a real process)
// ends and exits within --timeout-ms + 2 s against a real coturn that is
// throttled to a trickle (the bench's userspace proxy pacing every byte), one
// that drops half of all packets (iptables statistic inside a lab namespace),
// and one that stops mid-run (SIGSTOP, and SIGKILL). The run is timed from the
// report's own startedAt (the engine's first step, same clock) to the moment the
// process has exited, so node + tsx compiling the code is not charged to it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDelayProxy, type DelayProxy } from '../../bench/lib/delay-proxy';
import { createLab, startCoturn, type CoturnLab, type NetLab } from '../../scripts/lab';

jest.setTimeout(240_000);

const REPO = join(__dirname, '..', '..');
const TIMEOUT_MS = 8000;
const GRACE_MS = 2000;

interface CliRun {
  code: number | null;
  /** The report's startedAt to process exit (-1 without a JSON report). */
  runMs: number;
  /** The report's last byte on stdout to process exit. */
  reportToExitMs: number;
  out: string;
  err: string;
}

/** `voiptest check ARGS` as its own process; resolves when it has exited (SIGKILL after 60 s). */
function cli(args: string[], secret: string, onStart: () => void = () => undefined): Promise<CliRun> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: REPO, env: { ...process.env, MXV_TURN_SECRET: secret, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let printedAt = 0;
    p.stdout.on('data', (d: Buffer) => {
      out += d;
      printedAt = Date.now();
    });
    p.stderr.on('data', (d: Buffer) => (err += d));
    const hard = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code) => {
      clearTimeout(hard);
      const end = Date.now();
      let startedAt = NaN;
      try {
        startedAt = Date.parse((JSON.parse(out) as { startedAt: string }).startedAt);
      } catch {
        /* no report: runMs -1 */
      }
      resolve({ code, runMs: Number.isNaN(startedAt) ? -1 : end - startedAt, reportToExitMs: end - (printedAt || end), out, err });
    });
    onStart();
  });
}

let dir: string;
let caFile: string;

const measured: Record<string, unknown> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mxv-deadlines-'));
  caFile = join(dir, 'ca.pem');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`deadlines: ${JSON.stringify({ timeoutMs: TIMEOUT_MS, ...measured })}\n`);
});

const ARGS = (uris: string[]) => [
  'check',
  ...uris.flatMap((u) => ['--uri', u]),
  '--allow-private',
  '--assume-public', '127.0.0.0/8',
  '--assume-public', '198.18.0.0/15',
  '--ca', caFile,
  '--timeout-ms', String(TIMEOUT_MS),
  '--family', 'ipv4',
  '--json',
];

function expectWithinDeadline(name: string, r: CliRun): void {
  const ms = r.runMs;
  measured[name] = { runMs: ms, overshootMs: ms - TIMEOUT_MS, reportToExitMs: r.reportToExitMs, exit: r.code };
  // It ended on its own (not our 60 s SIGKILL), printed a report, and in time.
  expect({ name, code: r.code, report: r.out.includes('"schema"') ? 'json' : r.err.slice(-300) }).toEqual({ name, code: expect.any(Number), report: 'json' });
  expect({ name, ms }).toEqual({ name, ms: expect.toBeWithin(0, TIMEOUT_MS + GRACE_MS) });
}

expect.extend({
  toBeWithin(received: number, lo: number, hi: number) {
    const pass = received >= lo && received <= hi;
    return { pass, message: () => `expected ${received} ms ${pass ? 'not ' : ''}to be within [${lo}, ${hi}] ms` };
  },
});
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Expect {
      toBeWithin(lo: number, hi: number): unknown;
    }
  }
}

describe('a real coturn on loopback behind the proxy', () => {
  let coturn: CoturnLab;
  let proxy: DelayProxy | undefined;
  beforeAll(async () => {
    coturn = await startCoturn({ tls: true });
    writeFileSync(caFile, coturn.caPem!);
  });
  afterAll(async () => {
    await proxy?.close();
    await coturn?.stop();
  });

  const proxied = async (rttMs: number, bytesPerSecond?: number) => {
    await proxy?.close();
    proxy = await startDelayProxy(rttMs, [
      { name: 'udp', proto: 'udp', host: '127.0.0.1', target: coturn.port },
      { name: 'tcp', proto: 'tcp', host: '127.0.0.1', target: coturn.port },
      { name: 'tls', proto: 'tcp', host: '127.0.0.1', target: coturn.tlsPort },
    ], { bytesPerSecond });
    const p = proxy;
    return [`stun:127.0.0.1:${p.port('udp')}`, `turn:127.0.0.1:${p.port('udp')}?transport=udp`, `turn:127.0.0.1:${p.port('tcp')}?transport=tcp`, `turns:127.0.0.1:${p.port('tls')}?transport=tcp`];
  };

  test('throttled to a trickle (200 bytes/s each way, every packet late, none lost)', async () => {
    const uris = await proxied(20, 200);
    expectWithinDeadline('trickle', await cli(ARGS(uris), coturn.secret!));
  });

  // Node + tsx take ~1-2 s to load the CLI; the run over a 50 ms path takes ~10 s: 3 s after spawn is mid-run.
  test('stops mid-run (SIGSTOP 3 s after spawn, over a 50 ms path so the run is under way)', async () => {
    const uris = await proxied(50);
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await cli(ARGS(uris), coturn.secret!, () => {
        timer = setTimeout(() => process.kill(coturn.pid, 'SIGSTOP'), 3000);
      });
      expectWithinDeadline('sigstop', r);
    } finally {
      clearTimeout(timer);
      process.kill(coturn.pid, 'SIGCONT');
    }
  });

  test('dies mid-run (SIGKILL 3 s after spawn)', async () => {
    const victim = await startCoturn({ tls: true, relayPorts: [coturn.relayPorts[1] + 1, coturn.relayPorts[1] + 200] });
    const p = await startDelayProxy(50, [
      { name: 'udp', proto: 'udp', host: '127.0.0.1', target: victim.port },
      { name: 'tls', proto: 'tcp', host: '127.0.0.1', target: victim.tlsPort },
    ]);
    let timer: NodeJS.Timeout | undefined;
    try {
      writeFileSync(caFile, victim.caPem!);
      const uris = [`stun:127.0.0.1:${p.port('udp')}`, `turn:127.0.0.1:${p.port('udp')}?transport=udp`, `turns:127.0.0.1:${p.port('tls')}?transport=tcp`];
      const r = await cli(ARGS(uris), victim.secret!, () => {
        timer = setTimeout(() => process.kill(victim.pid, 'SIGKILL'), 3000);
      });
      expectWithinDeadline('sigkill', r);
    } finally {
      clearTimeout(timer);
      writeFileSync(caFile, coturn.caPem!);
      await p.close();
      await victim.stop();
    }
  });
});

const isRoot = process.getuid?.() === 0;
(isRoot ? describe : describe.skip)('a real coturn in a lab namespace that drops packets', () => {
  let lab: NetLab;
  let coturn: CoturnLab;
  beforeAll(async () => {
    lab = await createLab({ hosts: ['turn'] });
    coturn = await lab.startCoturn('turn', { tls: true });
  });
  afterAll(async () => {
    await coturn?.stop();
    await lab?.destroy();
  });

  test('answers some requests and drops others (50 % of packets in and out, iptables statistic)', async () => {
    writeFileSync(caFile, coturn.caPem!);
    await lab.drop('turn', { proto: 'all', direction: 'in', probability: 0.5 });
    await lab.drop('turn', { proto: 'all', direction: 'out', probability: 0.5 });
    const h = lab.host('turn').v4;
    const uris = [`stun:${h}:${coturn.port}`, `turn:${h}:${coturn.port}?transport=udp`, `turn:${h}:${coturn.port}?transport=tcp`, `turns:${h}:${coturn.tlsPort}?transport=tcp`];
    expectWithinDeadline('drop50', await cli(ARGS(uris), coturn.secret!));
  });
});
