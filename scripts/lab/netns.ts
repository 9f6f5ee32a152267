// Throwaway network namespaces for lab scenarios (blocked ports, packet loss,
// servers on addresses other than loopback, relays on private addresses).
//
// Topology, per lab (names carry a random id, so parallel labs never clash):
//
//   root namespace (our Node/jest process)
//     mxv<id>r  198.18.X.1/24  2001:db8:Y::1/64      <- the "root link"
//        |
//   hub namespace mxv-<id>-hub: bridge br0 (no addresses)
//        |                 |
//   mxv-<id>-client     mxv-<id>-turn        one namespace per host,
//     eth0 .10 / ::10     eth0 .11 / ::11      lo up, addresses on eth0
//
// Why a root link: the tester runs in-process in jest and must reach coturn
// inside a namespace without spawning itself elsewhere, so the root namespace
// gets one veth into the lab's bridge with an address in the lab range.
// Why a hub namespace for the bridge (not a bridge in the root namespace):
// with br_netfilter loaded, bridged frames in the root namespace cross the
// machine's own FORWARD rules; in a fresh namespace the rule set is empty, and
// the machine's namespace gains only one interface.
// Addresses: 198.18.0.0/15 (benchmarking, RFC 2544) and 2001:db8::/32
// (documentation), never routed anywhere: no default routes are set and the
// root namespace does not forward, so lab traffic cannot leave the machine.
// Tests may add 10.x / fd00:: addresses inside lab namespaces (addAddress).
//
// Teardown: destroy() (idempotent) kills processes left in the namespaces,
// deletes them and the root link; an exit hook and a watchdog (proc.ts
// guardCleanup) do the same if the test process dies first.
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { startCoturn, type CoturnLab, type CoturnOptions } from './coturn';
import { guardCleanup, sleep, spawnGuarded, type CleanupGuard, type Guarded } from './proc';

export class LabNetError extends Error {
  override name = 'LabNetError';
}

export interface NetLabOptions {
  /** Host names, e.g. ['client', 'turn'] (letters, digits, '-', at most 12 chars). */
  hosts: string[];
  /** IPv6 addresses too (default true). */
  ipv6?: boolean;
  /** The root-namespace veth into the lab (default true). */
  rootLink?: boolean;
}

export interface LabHost {
  name: string;
  /** Namespace name, for `ip netns exec`. */
  ns: string;
  /** Interface inside the namespace. */
  dev: 'eth0';
  v4: string;
  v6: string | undefined;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type Family = 'ipv4' | 'ipv6' | 'both';

export interface DropRule {
  proto: 'udp' | 'tcp' | 'all';
  /** One port or an inclusive range; omitted = every port. */
  ports?: number | [number, number];
  /** 'in' = INPUT (packets arriving at the host), 'out' = OUTPUT. Default 'in'. */
  direction?: 'in' | 'out';
  /** Drop only this fraction (0..1] of the matching packets (loss). */
  probability?: number;
  /** Default 'both'. */
  family?: Family;
  /** Match the source (direction 'in') or destination ('out') address. */
  peer?: string;
}

export interface NetLab {
  id: string;
  hosts: Record<string, LabHost>;
  /** Root-namespace side of the root link (undefined when rootLink: false). */
  root: { dev: string; v4: string; v6: string | undefined } | undefined;
  /** The lab's IPv4 /24 and IPv6 /64, e.g. '198.18.7.0/24'. */
  subnet: { v4: string; v6: string | undefined };
  host(name: string): LabHost;
  /** Run argv inside the host's namespace; never throws for a non-zero exit. */
  exec(host: string, argv: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Like exec, but throws LabNetError on a non-zero exit. */
  run(host: string, argv: string[], opts?: { timeoutMs?: number }): Promise<string>;
  /** A long-running guarded process in the host's namespace (stopped by destroy() too). */
  spawn(host: string, argv: string[], opts?: { logFile?: string }): Guarded;
  /** Add an address (CIDR) to a device in the host (default eth0), e.g. a private relay address. */
  addAddress(host: string, cidr: string, dev?: string): Promise<void>;
  /** Raw iptables (family 'ipv4') / ip6tables ('ipv6') / both, inside the host. */
  iptables(host: string, args: string[], family?: Family): Promise<void>;
  /** DROP rule (port block, or random loss with `probability`) inside the host. */
  drop(host: string, rule: DropRule): Promise<void>;
  /** Remove every iptables rule in the host (both families). */
  flush(host: string): Promise<void>;
  /** coturn inside the host, listening on its lab addresses, probed from the root link. */
  startCoturn(host: string, opts?: CoturnOptions): Promise<CoturnLab>;
  /** Idempotent. */
  destroy(): Promise<void>;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,11}$/;

function execCmd(cmd: string, args: string[], timeoutMs = 10_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      let code: number | null = 0;
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        code = typeof e.code === 'number' ? e.code : null;
        if (e.code === 'ENOENT') stderr = `${cmd} not found: run scripts/ensure-deps.sh`;
        if (e.killed) stderr = `${stderr}\n(timed out after ${timeoutMs} ms)`;
      }
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await execCmd(cmd, args, timeoutMs);
  if (r.code !== 0) throw new LabNetError(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Pick a /24 in 198.18.0.0/15 not already on a root-namespace interface. */
async function pickSubnet(): Promise<{ v4: string; v6: string }> {
  const used = (await execCmd('ip', ['-o', 'addr', 'show'])).stdout;
  for (let i = 0; i < 50; i++) {
    const n = randomInt(0, 512);
    const v4 = `198.${18 + (n >> 8)}.${n & 255}`;
    const v6 = `2001:db8:${randomInt(0x100, 0xffff).toString(16)}`;
    if (!used.includes(` ${v4}.`) && !used.includes(` ${v6}:`)) return { v4, v6 };
  }
  throw new LabNetError('no free lab subnet in 198.18.0.0/15');
}

/** Create the namespaces, bridge and links. Tear down with destroy(). */
export async function createLab(opts: NetLabOptions): Promise<NetLab> {
  if (process.getuid?.() !== 0) throw new LabNetError('network namespaces need root');
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip')) {
    throw new LabNetError('ip (iproute2) not found: run scripts/ensure-deps.sh');
  }
  if (opts.hosts.length === 0 || opts.hosts.length > 200) throw new LabNetError('hosts: 1..200 names');
  for (const h of opts.hosts) if (!NAME_RE.test(h) || h === 'hub') throw new LabNetError(`bad host name ${JSON.stringify(h)}`);
  if (new Set(opts.hosts).size !== opts.hosts.length) throw new LabNetError('duplicate host names');
  const ipv6 = opts.ipv6 ?? true;
  const rootLink = opts.rootLink ?? true;

  const id = randomBytes(3).toString('hex');
  const hubNs = `mxv-${id}-hub`;
  const nsOf = (h: string) => `mxv-${id}-${h}`;
  const rootDev = `mxv${id}r`;
  const allNs = [hubNs, ...opts.hosts.map(nsOf)];
  const { v4: p4, v6: p6 } = await pickSubnet();

  // Everything the watchdog/exit hook must undo, in shell.
  const cleanupScript = [
    ...allNs.map((ns) => `for p in $(ip netns pids ${ns} 2>/dev/null); do kill -9 $p 2>/dev/null; done; ip netns del ${ns} 2>/dev/null`),
    `ip link del ${rootDev} 2>/dev/null`,
    'true',
  ].join('; ');
  const guard: CleanupGuard = guardCleanup(cleanupScript);
  const procs = new Set<Guarded>();
  let destroyed = false;

  const hosts: Record<string, LabHost> = {};
  const nsExec = (ns: string, argv: string[], timeoutMs?: number) => execCmd('ip', ['netns', 'exec', ns, ...argv], timeoutMs);
  const nsMust = (ns: string, argv: string[]) => must('ip', ['netns', 'exec', ns, ...argv]);

  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all([...procs].map((p) => p.stop(1000)));
    await execCmd('sh', ['-c', cleanupScript], 15_000);
    guard.disarm();
  };

  try {
    for (const ns of allNs) await must('ip', ['netns', 'add', ns]);
    await nsMust(hubNs, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await nsMust(hubNs, ['ip', 'link', 'set', 'br0', 'up']);
    if (ipv6) {
      // Fresh namespaces accept IPv6 by default, but be explicit: a host with
      // disable_ipv6 would silently drop the lab's v6 addresses.
      for (const ns of allNs) await nsExec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0']);
    }

    const attach = async (peerIn: string, ns: string | null, name: string, inner: string) => {
      // veth pair created inside the hub: `inner` goes to `ns` (or root when null).
      await nsMust(hubNs, ['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', peerIn]);
      await nsMust(hubNs, ['ip', 'link', 'set', name, 'master', 'br0', 'up']);
      if (ns) {
        await nsMust(hubNs, ['ip', 'link', 'set', peerIn, 'netns', ns]);
        await nsMust(ns, ['ip', 'link', 'set', peerIn, 'name', inner]);
      } else {
        // Into our own namespace (the one the test process lives in).
        await nsMust(hubNs, ['ip', 'link', 'set', peerIn, 'netns', String(process.pid)]);
        if (inner !== peerIn) await must('ip', ['link', 'set', peerIn, 'name', inner]);
      }
    };

    let n = 10;
    for (const h of opts.hosts) {
      const ns = nsOf(h);
      const host: LabHost = { name: h, ns, dev: 'eth0', v4: `${p4}.${n}`, v6: ipv6 ? `${p6}::${n.toString(16)}` : undefined };
      await attach(`mxv${id}t${n}`, ns, `h${n}`, 'eth0');
      await nsMust(ns, ['ip', 'link', 'set', 'lo', 'up']);
      await nsMust(ns, ['ip', 'addr', 'add', `${host.v4}/24`, 'dev', 'eth0']);
      if (host.v6) await nsMust(ns, ['ip', '-6', 'addr', 'add', `${host.v6}/64`, 'dev', 'eth0', 'nodad']);
      await nsMust(ns, ['ip', 'link', 'set', 'eth0', 'up']);
      hosts[h] = host;
      n++;
    }

    let root: NetLab['root'];
    if (rootLink) {
      await attach(rootDev, null, 'r', rootDev);
      await must('ip', ['addr', 'add', `${p4}.1/24`, 'dev', rootDev]);
      if (ipv6) await must('ip', ['-6', 'addr', 'add', `${p6}::1/64`, 'dev', rootDev, 'nodad']);
      await must('ip', ['link', 'set', rootDev, 'up']);
      root = { dev: rootDev, v4: `${p4}.1`, v6: ipv6 ? `${p6}::1` : undefined };
    }

    const host = (name: string): LabHost => {
      const h = hosts[name];
      if (!h) throw new LabNetError(`no host ${JSON.stringify(name)} in lab ${id} (hosts: ${Object.keys(hosts).join(', ')})`);
      return h;
    };
    const iptables = async (name: string, args: string[], family: Family = 'both') => {
      const ns = host(name).ns;
      if (family !== 'ipv6') await nsMust(ns, ['iptables', '-w', ...args]);
      if (family !== 'ipv4' && ipv6) await nsMust(ns, ['ip6tables', '-w', ...args]);
    };

    const lab: NetLab = {
      id,
      hosts,
      root,
      subnet: { v4: `${p4}.0/24`, v6: ipv6 ? `${p6}::/64` : undefined },
      host,
      exec: (name, argv, o) => nsExec(host(name).ns, argv, o?.timeoutMs),
      async run(name, argv, o) {
        const r = await nsExec(host(name).ns, argv, o?.timeoutMs);
        if (r.code !== 0) throw new LabNetError(`[${name}] ${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
        return r.stdout;
      },
      spawn(name, argv, o) {
        if (destroyed) throw new LabNetError('lab destroyed');
        const p = spawnGuarded('ip', ['netns', 'exec', host(name).ns, ...argv], { logFile: o?.logFile });
        procs.add(p);
        void p.exited.then(() => procs.delete(p));
        return p;
      },
      async addAddress(name, cidr, dev = 'eth0') {
        const ip = cidr.split('/')[0];
        await nsMust(host(name).ns, ['ip', ...(isIPv6(ip) ? ['-6'] : []), 'addr', 'add', cidr, 'dev', dev, ...(isIPv6(ip) ? ['nodad'] : [])]);
      },
      iptables,
      async drop(name, rule) {
        const chain = (rule.direction ?? 'in') === 'in' ? 'INPUT' : 'OUTPUT';
        const args = ['-A', chain];
        if (rule.proto !== 'all') args.push('-p', rule.proto);
        if (rule.ports !== undefined) {
          if (rule.proto === 'all') throw new LabNetError('ports need proto udp or tcp');
          const pr = Array.isArray(rule.ports) ? `${rule.ports[0]}:${rule.ports[1]}` : String(rule.ports);
          args.push('--dport', pr);
        }
        if (rule.probability !== undefined) {
          if (!(rule.probability > 0 && rule.probability <= 1)) throw new LabNetError('probability must be in (0, 1]');
          args.push('-m', 'statistic', '--mode', 'random', '--probability', String(rule.probability));
        }
        let family = rule.family ?? 'both';
        if (rule.peer) {
          args.push(chain === 'INPUT' ? '-s' : '-d', rule.peer);
          family = isIPv6(rule.peer.split('/')[0]) ? 'ipv6' : 'ipv4';
        }
        args.push('-j', 'DROP');
        await iptables(name, args, family);
      },
      async flush(name) {
        await iptables(name, ['-F'], 'both');
      },
      async startCoturn(name, o = {}) {
        const h = host(name);
        // Probe readiness over the root link when there is one (that is how
        // the tests will reach it); otherwise from inside the namespace.
        return startCoturn({ listenIps: [h.v4, ...(h.v6 ? [h.v6] : [])], probeFrom: root ? 'root' : 'netns', ...o, netns: h.ns });
      },
      destroy,
    };
    // IPv6 with nodad is usable at once; give the bridge a moment to forward.
    await sleep(50);
    return lab;
  } catch (e) {
    await destroy();
    throw e;
  }
}

/** Namespaces of labs whose cleanup never ran (e.g. after a kernel OOM of the watchdog too). */
export async function listLabNamespaces(): Promise<string[]> {
  const r = await execCmd('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith('mxv-'));
}

/** A tiny UDP+TCP echo server inside a lab host (for reachability tests). */
export function startEcho(lab: NetLab, hostName: string, port: number): Guarded {
  const js = `
const dgram = require('dgram'), net = require('net');
const port = +process.argv[1];
for (const t of ['udp4', 'udp6']) { const s = dgram.createSocket({ type: t, ipv6Only: t === 'udp6' });
  s.on('message', (m, r) => s.send(m, r.port, r.address)); s.on('error', () => {}); s.bind(port); }
net.createServer((c) => { c.on('error', () => {}); c.pipe(c); }).listen({ port, host: '::' });
`;
  return lab.spawn(hostName, [process.execPath, '-e', js, String(port)]);
}

/**
 * Send one UDP datagram (or open TCP and echo a line) from `from` (a lab host
 * name, or null for our own root namespace) to ip:port; true when the echo
 * comes back within timeoutMs.
 */
export async function echoReachable(lab: NetLab, from: string | null, ip: string, port: number, proto: 'udp' | 'tcp', timeoutMs = 800): Promise<boolean> {
  const js = `
const dgram = require('dgram'), net = require('net');
const [ip, port, proto, ms] = process.argv.slice(1);
const done = (ok) => process.exit(ok ? 0 : 1); setTimeout(() => done(false), +ms);
if (proto === 'udp') { const s = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
  s.on('message', (m) => done(m.toString() === 'mxv')); s.on('error', () => done(false)); s.send('mxv', +port, ip); }
else { const c = net.connect({ host: ip, port: +port }, () => c.write('mxv')); c.on('data', (d) => done(d.toString() === 'mxv')); c.on('error', () => done(false)); }
`;
  const argv = [process.execPath, '-e', js, ip, String(port), proto, String(timeoutMs)];
  const r = from === null ? await execCmd(argv[0], argv.slice(1), timeoutMs + 3000) : await lab.exec(from, argv, { timeoutMs: timeoutMs + 3000 });
  return r.code === 0;
}
