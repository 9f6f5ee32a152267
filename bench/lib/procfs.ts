// What a process holds, read from /proc: open file descriptors, and the UDP
// sockets it has bound in a port range (coturn's relay endpoints: one per live
// allocation), so the soak can tell what a process keeps without asking it.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Open file descriptors of `pid` (undefined when it is gone). */
export function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Open descriptors of `pid` by kind: socket, pipe, anon_inode:[eventfd], file... */
export function fdKinds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let names: string[] = [];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const n of names) {
    let t = 'gone';
    try {
      t = readlinkSync(`/proc/${pid}/fd/${n}`);
    } catch {
      /* closed meanwhile */
    }
    const kind = t.startsWith('socket:') ? 'socket' : t.startsWith('pipe:') ? 'pipe' : t.startsWith('anon_inode:') ? t : t.startsWith('/') ? 'file' : t;
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

function socketInodes(pid: number): Set<string> {
  const s = new Set<string>();
  for (const n of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${n}`));
      if (m) s.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  return s;
}

/** UDP sockets of `pid` bound to a local port in [lo, hi] (IPv4 and IPv6). */
export function udpSocketsInRange(pid: number, [lo, hi]: [number, number]): number {
  const mine = socketInodes(pid);
  let n = 0;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = parseInt(f[1]!.split(':')[1]!, 16);
      if (port >= lo && port <= hi && mine.has(f[9]!)) n++;
    }
  }
  return n;
}

/** VmRSS of `pid` in kB. */
export function rssKb(pid: number): number | undefined {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) || undefined;
  } catch {
    return undefined;
  }
}
