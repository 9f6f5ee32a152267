// Free ports for lab servers, chosen so parallel test runs (other helpers, CI
// shards) do not clash.
//
// Listening ports come from 61000-65499, above Linux's ephemeral range
// (32768-60999), so an outgoing connection elsewhere on the machine never
// takes them between our check and the server's bind; the random start makes
// two parallel picks unlikely to meet. Relay ranges are blocks below 32768.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { randomInt } from 'node:crypto';

export class LabPortError extends Error {
  override name = 'LabPortError';
}

const LISTEN_LO = 61000;
const LISTEN_HI = 65499;

function tcpFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRNOTAVAIL') resolve(false);
      else resolve(false);
    });
    s.listen({ host: ip, port, exclusive: true, ipv6Only: isIPv6(ip) }, () => s.close(() => resolve(true)));
  });
}

function udpFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket({ type: isIPv6(ip) ? 'udp6' : 'udp4', ipv6Only: isIPv6(ip) });
    s.once('error', () => {
      try {
        s.close();
      } catch {
        /* not bound */
      }
      resolve(false);
    });
    s.bind({ address: ip, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** True when every port is free on TCP and UDP on every IP. */
export async function portsFree(ips: string[], ports: number[]): Promise<boolean> {
  for (const ip of ips) {
    for (const port of ports) {
      if (!(await tcpFree(ip, port)) || !(await udpFree(ip, port))) return false;
    }
  }
  return true;
}

/**
 * A base port B such that B..B+span-1 are free (TCP and UDP) on all `ips`.
 * `ips` empty: no check (e.g. inside a fresh network namespace).
 */
export async function findFreePortBlock(ips: string[], span: number, attempts = 60): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const base = randomInt(LISTEN_LO, LISTEN_HI - span);
    const ports = Array.from({ length: span }, (_, k) => base + k);
    if (ips.length === 0 || (await portsFree(ips, ports))) return base;
  }
  throw new LabPortError(`no free block of ${span} ports on ${ips.join(', ')} after ${attempts} tries`);
}

/** One free TCP port on `ip` (e.g. Synapse's HTTP listener). */
export async function findFreeTcpPort(ip = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 60; i++) {
    const port = randomInt(LISTEN_LO, LISTEN_HI);
    if (await tcpFree(ip, port)) return port;
  }
  throw new LabPortError(`no free TCP port on ${ip}`);
}

/**
 * A relay port range [min, max] of `size` ports in 10000-32767. Not checked
 * port by port (coturn skips ports it cannot bind); random so parallel
 * instances rarely share a block.
 */
export function pickRelayRange(size = 500): [number, number] {
  const blocks = Math.floor((32767 - 10000) / size);
  const min = 10000 + randomInt(0, blocks) * size;
  return [min, min + size - 1];
}
