// The werift adaptations (src/webrtc/werift) that no other test shows, on a
// real coturn: closing a pair deletes its allocations (werift alone leaves
// them for 600 s, so a user-quota=2 server refuses the next pair), and no
// timer of a closed pair keeps the process alive (werift's refresh loop waits
// an un-cancellable 500 s). PATCHES in index.ts maps every patch to its test.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { mintRestCredentials } from '../../src/tester/credentials/rest';
import { runE2E, type E2EInput } from '../../src/tester/probes/e2e';
import { Secret } from '../../src/tester/secret';

jest.setTimeout(60_000);

let lab: CoturnLab;

beforeAll(async () => {
  lab = await startCoturn({ extra: ['user-quota=2'] });
});
afterAll(async () => {
  await lab?.stop();
});

// user-quota counts per user: each test its own, so one test's allocations (freed ~1 s after deletion) never count against the next.
function input(user = 'werift-patch'): E2EInput {
  const creds = mintRestCredentials(new Secret(lab.secret!), user);
  const raw = `turn:127.0.0.1:${lab.port}?transport=udp`;
  return { uri: { raw, scheme: 'turn', host: '127.0.0.1', port: lab.port, transport: 'udp', transportExplicit: true, ipLiteral: 4 }, family: 'ipv4', address: '127.0.0.1', username: creds.username, password: creds.password, engine: 'werift' };
}

test('closing a pair deletes its allocations: the next pair fits a user-quota of 2', async () => {
  const first = await runE2E(input());
  expect(first.status).toBe('pass');
  // coturn frees a deleted allocation about a second later; an undeleted one would stay 600 s.
  await new Promise((r) => setTimeout(r, 2500));
  const second = await runE2E(input());
  expect([second.status, second.cause ?? null]).toEqual(['pass', null]);
});

test('no timer of a closed pair keeps the process alive', async () => {
  const exitInput = input('werift-exit');
  const script = join(__dirname, '..', '..', 'test-artifacts', 'werift-exit.ts');
  const src = join(__dirname, '..', '..', 'src');
  require('node:fs').mkdirSync(join(__dirname, '..', '..', 'test-artifacts'), { recursive: true });
  writeFileSync(
    script,
    `import { runE2E } from '${src}/tester/probes/e2e';\nimport { Secret } from '${src}/tester/secret';\n` +
      `const i = ${JSON.stringify({ ...exitInput, password: undefined })};\n` +
      `runE2E({ ...i, password: new Secret(process.env.PW!) }).then((f) => { console.log('DONE', f.status, Date.now()); });\n`,
  );
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), script], { env: { ...process.env, PW: exitInput.password.reveal() }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  const exitedAt = await new Promise<number>((resolve) => child.on('exit', () => resolve(Date.now())));
  const m = /DONE (\w+) (\d+)/.exec(out);
  expect(m?.[1]).toBe('pass');
  // The process ends on its own within a few seconds of the result.
  expect(exitedAt - Number(m![2])).toBeLessThan(5000);
});
