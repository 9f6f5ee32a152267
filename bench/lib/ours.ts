// Our client's side of the side-by-side measurements.
import { createHmac } from 'node:crypto';
import { Secret } from '../../src/tester/secret';
import { TurnClient } from '../../src/tester/turn';

export function restCreds(secret: string, user = 'bench'): { username: string; password: Secret } {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:${user}`;
  return { username, password: new Secret(createHmac('sha1', secret).update(username).digest('base64')) };
}

/**
 * Send `count` ChannelData packets of `size` bytes to an echo peer as fast as
 * the path takes them, keeping at most `window` unanswered (flow control, like
 * any sender that does not want to overrun socket buffers). Resolves when all
 * echoes came back or the path went quiet.
 */
export async function blast(secret: string, port: number, peerPort: number, count: number, size: number, window = 128): Promise<{ sent: number; echoed: number; ms: number }> {
  const c = await TurnClient.connect({ transport: 'udp', host: '127.0.0.1', port, ...restCreds(secret) });
  try {
    await c.allocate();
    const ch = 0x4000;
    await c.channelBind(ch, { address: '127.0.0.1', port: peerPort });
    const buf = Buffer.alloc(size, 7);
    let sent = 0;
    let echoed = 0;
    let written_off = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let last = echoed;
      let quiet = 0;
      const pump = () => {
        while (sent < count && sent - echoed - written_off < window) {
          c.sendChannel(ch, buf);
          sent++;
        }
      };
      c.on('data', () => {
        echoed++;
        if (echoed + written_off >= count) finish();
        else pump();
      });
      // Lost packets would stall the window: after 20 ms without progress, write them off.
      const stall = setInterval(() => {
        if (echoed === last) {
          written_off = sent - echoed;
          if (sent >= count && ++quiet > 10) finish();
          pump();
        } else quiet = 0;
        last = echoed;
      }, 20);
      const finish = () => {
        clearInterval(stall);
        resolve();
      };
      pump();
    });
    return { sent, echoed, ms: performance.now() - t0 };
  } finally {
    await c.close();
  }
}

/** `n` sequential allocations, each on a fresh client through `port` (the timing proxy). */
export async function allocations(secret: string, port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const c = await TurnClient.connect({ transport: 'udp', host: '127.0.0.1', port, ...restCreds(secret) });
    try {
      await c.allocate();
    } finally {
      await c.close();
    }
  }
}
