// The counting echo peer in its own process, so neither client shares an
// event loop (or a core) with it: the same instrument for ours and uclient.
// Protocol on stdin/stdout, one line each: "reset" -> "ok", "rate" -> JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const CHILD = `
const dgram = require('dgram');
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
let t = new Float64Array(1e6), n = 0;
s.on('message', (m, r) => { if (n < t.length) t[n++] = performance.now(); s.send(m, r.port, r.address); });
s.on('error', () => {});
s.bind(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: s.address().port }) + '\\n'));
require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'reset') { n = 0; process.stdout.write('"ok"\\n'); }
  else if (l === 'rate') {
    // Steady state: the middle 80 % of arrivals, so start-up and tail do not count.
    const a = Math.floor(n * 0.1), b = Math.floor(n * 0.9);
    const pps = n < 20 ? 0 : (b - a) / ((t[b] - t[a]) / 1000);
    process.stdout.write(JSON.stringify({ packets: n, pps }) + '\\n');
  }
});
process.stdin.on('end', () => process.exit(0));
`;

export interface PeerProcess {
  port: number;
  reset(): Promise<void>;
  rate(): Promise<{ packets: number; pps: number }>;
  stop(): void;
}

export async function startPeerProcess(): Promise<PeerProcess> {
  const p: ChildProcess = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines = createInterface({ input: p.stdout! });
  const queue: ((l: string) => void)[] = [];
  lines.on('line', (l) => queue.shift()?.(l));
  const next = (timeoutMs = 5000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('echo peer did not answer')), timeoutMs);
      queue.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  const stop = () => {
    if (p.pid && p.exitCode === null) process.kill(p.pid, 'SIGKILL');
  };
  try {
    const { port } = JSON.parse(await next()) as { port: number };
    return {
      port,
      async reset() {
        p.stdin!.write('reset\n');
        await next();
      },
      async rate() {
        p.stdin!.write('rate\n');
        return JSON.parse(await next()) as { packets: number; pps: number };
      },
      stop,
    };
  } catch (e) {
    stop();
    throw e;
  }
}
