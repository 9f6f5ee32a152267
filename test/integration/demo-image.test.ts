// scripts/check-docker.sh: the Dockerfile's steps without Docker (production
// install, production build, runtime smoke with production deps only).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

test('check-docker.sh mirrors the image build and passes', async () => {
  const root = resolve(__dirname, '..', '..');
  const r = await new Promise<{ code: number; out: string }>((done) => {
    execFile('bash', ['scripts/check-docker.sh'], { cwd: root, timeout: 170_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
  if (r.code !== 0) throw new Error(`check-docker.sh exited ${r.code}\n${r.out}`);
  expect(r.out).toContain('check-docker: ok');
}, 180_000);
