// turnutils_uclient (ships with coturn) as the reference client, with a
// deadline and stop-by-PID.
import { spawn } from 'node:child_process';

export interface UclientRun {
  code: number | null;
  stdout: string;
  wallMs: number;
  timedOut: boolean;
}

export function runUclient(args: string[], timeoutMs: number): Promise<UclientRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn('turnutils_uclient', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let timedOut = false;
    p.stdout.on('data', (d: Buffer) => {
      if (out.length < 1 << 20) out += d.toString('utf8');
    });
    p.stderr.on('data', () => undefined);
    const timer = setTimeout(() => {
      timedOut = true;
      if (p.pid) process.kill(p.pid, 'SIGKILL');
    }, timeoutMs);
    p.on('error', () => undefined);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out, wallMs: performance.now() - t0, timedOut });
    });
  });
}
