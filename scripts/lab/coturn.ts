// A real coturn (Debian's `turnserver`) for tests, the benchmark and the demo.
//
// Each instance gets its own directory (config, userdb, pidfile, log, TLS
// files), its own dynamically chosen ports (listening port and TLS port, each
// with the RFC 5780 alternate port +1 kept free too) and its own relay port
// block, so instances run in parallel without clashing. Readiness means it
// really answers: a raw STUN Binding over UDP (or a TCP connect with noUdp),
// and a TCP connect to the TLS port. Processes are guarded (see proc.ts) so a
// crashed test leaves no turnserver behind.
//
//   const lab = await startCoturn({ tls: true });
//   // turn:127.0.0.1:${lab.port}  turns:localhost:${lab.tlsPort}  secret: lab.secret, CA: lab.caPem
//   await lab.stop();
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { makeSelfSigned } from './certs';
import { findFreePortBlock, pickRelayRange } from './ports';
import { sleep, spawnGuarded, tail, type Guarded } from './proc';

export interface CoturnOptions {
  /** TURN REST shared secret (use-auth-secret). Default: random, unless `users` or `noAuth` is given. */
  secret?: string;
  /** Long-term credential users (lt-cred-mech). */
  users?: { name: string; password: string }[];
  /** No authentication at all (an open relay: a security-finding scenario). */
  noAuth?: boolean;
  /** Default 'lab.test'. */
  realm?: string;
  /** Default ['127.0.0.1', '::1']. */
  listenIps?: string[];
  relayIps?: string[];
  /** coturn `external-ip` (public[/private]). */
  externalIp?: string;
  /** Open a TLS listener with a self-signed cert for 127.0.0.1, ::1, localhost. */
  tls?: boolean;
  /** Use this certificate instead (expired, wrong host, ...); implies tls. */
  tlsCert?: { certPem: string; keyPem: string };
  noUdp?: boolean;
  noTcp?: boolean;
  /** Raw config lines appended last. */
  extra?: string[];
  /** Run inside `ip netns exec NS`. */
  netns?: string;
  /** Where readiness is probed from when `netns` is set: 'netns' (default, a child node inside it) or 'root'. */
  probeFrom?: 'netns' | 'root';
  /** Default true (loopback peers are the lab's peers). */
  allowLoopbackPeers?: boolean;
  /** Fixed listening port (e.g. 3478 inside a namespace); default: a free one. */
  port?: number;
  /** Fixed TLS port (e.g. 443 inside a namespace); default: a free one. */
  tlsPort?: number;
  /** Relay port range; default a random 500-port block in 10000-32767. */
  relayPorts?: [number, number];
  /** Disable RFC 5780 (no alternate ports). */
  noRfc5780?: boolean;
  /** Keep coturn's stdout log too (default off: the log file has it all). */
  stdoutLog?: boolean;
  /** Verbose logging (`verbose`). */
  verbose?: boolean;
  /** Parent directory for the instance dir; default $MXV_LAB_DIR or os.tmpdir(). */
  baseDir?: string;
  /** Keep the instance dir after stop() (also when $MXV_KEEP_LAB is set). */
  keepDir?: boolean;
  /** Readiness deadline; default 10000 ms. */
  readyTimeoutMs?: number;
  /** Default 'turnserver'. */
  bin?: string;
}

export interface CoturnLab {
  port: number;
  /** The TLS listening port (listened on only when `tls`). */
  tlsPort: number;
  /** RFC 5780 alternate port (port+1), unless noRfc5780. */
  altPort?: number;
  tls: boolean;
  /** The REST shared secret, when use-auth-secret is on (never log it). */
  secret: string | undefined;
  realm: string;
  /** PEM of the server certificate (self-signed: usable as the CA). */
  caPem: string | undefined;
  dir: string;
  pid: number;
  listenIps: string[];
  relayPorts: [number, number];
  netns?: string;
  /** turn:/turns:/stun: URIs for `host` (default: the first listen IP; 'localhost' for turns:). */
  uris(host?: string): { stun: string; turnUdp: string; turnTcp: string; turns?: string };
  /** coturn's log so far. */
  log(): string;
  /** SIGTERM then SIGKILL; idempotent. */
  stop(): Promise<void>;
}

export class LabCoturnError extends Error {
  override name = 'LabCoturnError';
}

const MAGIC_COOKIE = 0x2112a442;

/** A minimal STUN Binding request: 20-byte header, no attributes. */
export function bindingRequest(): { packet: Buffer; txId: Buffer } {
  const txId = randomBytes(12);
  const packet = Buffer.alloc(20);
  packet.writeUInt16BE(0x0001, 0); // Binding request
  packet.writeUInt16BE(0, 2); // length
  packet.writeUInt32BE(MAGIC_COOKIE, 4);
  txId.copy(packet, 8);
  return { packet, txId };
}

/** True when `msg` is a Binding success response for txId. */
export function isBindingSuccess(msg: Buffer, txId: Buffer): boolean {
  return msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.readUInt32BE(4) === MAGIC_COOKIE && msg.subarray(8, 20).equals(txId);
}

/** One STUN Binding over UDP; resolves true on a success answer within timeoutMs. */
export function stunBindingUdp(ip: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(isIPv6(ip) ? 'udp6' : 'udp4');
    const { packet, txId } = bindingRequest();
    const done = (ok: boolean) => {
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        /* closed */
      }
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('message', (msg) => {
      if (isBindingSuccess(msg, txId)) done(true);
    });
    sock.send(packet, port, ip, (err) => {
      if (err) done(false);
    });
  });
}

/** True when a TCP connection to ip:port opens within timeoutMs. */
export function tcpConnects(ip: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

// The same probes as a standalone script, for readiness checks run inside a
// network namespace (`ip netns exec NS node -e ...`). Exit 0 when ready.
const NETNS_PROBE_JS = `
const dgram = require('dgram'), net = require('net'), crypto = require('crypto');
const [ip, port, mode, tlsPort] = process.argv.slice(1);
function udp() { return new Promise((res) => { const s = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
  const tx = crypto.randomBytes(12), p = Buffer.alloc(20); p.writeUInt16BE(1, 0); p.writeUInt32BE(0x2112a442, 4); tx.copy(p, 8);
  const t = setTimeout(() => { s.close(); res(false); }, 400); s.on('error', () => { clearTimeout(t); res(false); });
  s.on('message', (m) => { if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(tx)) { clearTimeout(t); s.close(); res(true); } });
  s.send(p, +port, ip); }); }
function tcp(pt) { return new Promise((res) => { const s = net.connect({ host: ip, port: +pt });
  const t = setTimeout(() => { s.destroy(); res(false); }, 400); s.once('connect', () => { clearTimeout(t); s.destroy(); res(true); });
  s.once('error', () => { clearTimeout(t); res(false); }); }); }
(async () => { const ok = (mode === 'udp' ? await udp() : await tcp(port)) && (tlsPort === '0' || await tcp(tlsPort)); process.exit(ok ? 0 : 1); })();
`;

function netnsProbe(ns: string, ip: string, port: number, mode: 'udp' | 'tcp', tlsPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', NETNS_PROBE_JS, ip, String(port), mode, String(tlsPort)], { stdio: 'ignore' });
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.on('error', () => resolve(false));
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve(code === 0);
    });
  });
}

function hasBinary(bin: string): boolean {
  if (bin.includes('/')) return existsSync(bin);
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d && existsSync(join(d, bin)));
}

function secretsOf(opts: CoturnOptions, secret: string | undefined): string[] {
  return [secret, ...(opts.users ?? []).map((u) => u.password)].filter((x): x is string => Boolean(x));
}

/** Error texts may travel into test output: never with a secret in them. */
function redact(text: string, secrets: string[]): string {
  return secrets.reduce((t, s) => t.split(s).join('[redacted]'), text);
}

function hostInUri(ip: string): string {
  return isIPv6(ip) ? `[${ip}]` : ip;
}

/** Start coturn and wait until it answers. Throws LabCoturnError (with the log tail) on failure. */
export async function startCoturn(opts: CoturnOptions = {}): Promise<CoturnLab> {
  const bin = opts.bin ?? 'turnserver';
  if (!hasBinary(bin)) throw new LabCoturnError(`${bin} not found: run scripts/ensure-deps.sh (installs Debian's coturn)`);
  if (opts.noUdp && opts.noTcp) throw new LabCoturnError('noUdp and noTcp together leave no plain listener');
  const realm = opts.realm ?? 'lab.test';
  const listenIps = opts.listenIps ?? ['127.0.0.1', '::1'];
  if (listenIps.length === 0) throw new LabCoturnError('listenIps is empty');
  const tls = Boolean(opts.tls || opts.tlsCert);
  const rfc5780 = !opts.noRfc5780;
  // Without a link into the namespace we cannot test its ports from here; a
  // fresh namespace has nothing listening anyway.
  const checkIps = opts.netns ? [] : listenIps;

  const baseDir = opts.baseDir ?? process.env.MXV_LAB_DIR ?? tmpdir();
  await mkdir(baseDir, { recursive: true });
  const dir = await mkdtemp(join(baseDir, 'mxv-coturn-'));
  const keepDir = opts.keepDir ?? Boolean(process.env.MXV_KEEP_LAB);

  let secret: string | undefined;
  if (!opts.noAuth) secret = opts.secret ?? (opts.users?.length ? undefined : randomBytes(18).toString('base64url'));

  let caPem: string | undefined;
  const lines: string[] = [];
  if (tls) {
    // SANs cover every listen IP (namespace labs listen on 198.18.x.y).
    const sans = [...new Set(['127.0.0.1', '::1', 'localhost', ...listenIps.filter((ip) => ip !== '0.0.0.0' && ip !== '::')])];
    const cert = opts.tlsCert ?? (await makeSelfSigned({ cn: 'localhost', sans }));
    await writeFile(join(dir, 'cert.pem'), cert.certPem);
    await writeFile(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
    caPem = cert.certPem;
  }

  const relayPorts = opts.relayPorts ?? pickRelayRange(500);
  const logFile = join(dir, 'turnserver.log');
  const attempts = opts.port || opts.tlsPort ? 1 : 3;
  let lastErr: Error | null = null;

  for (let attempt = 0; attempt < attempts; attempt++) {
    // Port, its alternate (+1), TLS port, its alternate (+1): one block of 4.
    const base = opts.port && opts.tlsPort ? 0 : await findFreePortBlock(checkIps, 4);
    const port = opts.port ?? base;
    const tlsPort = opts.tlsPort ?? (opts.port ? await findFreePortBlock(checkIps, 2) : base + 2);

    lines.length = 0;
    lines.push(
      `listening-port=${port}`,
      `tls-listening-port=${tlsPort}`,
      ...(rfc5780 ? [`alt-listening-port=${port + 1}`, `alt-tls-listening-port=${tlsPort + 1}`] : ['no-rfc5780']),
      ...listenIps.map((ip) => `listening-ip=${ip}`),
      ...(opts.relayIps ?? []).map((ip) => `relay-ip=${ip}`),
      ...(opts.externalIp ? [`external-ip=${opts.externalIp}`] : []),
      `min-port=${relayPorts[0]}`,
      `max-port=${relayPorts[1]}`,
      `realm=${realm}`,
      'fingerprint',
      ...(opts.noAuth ? ['no-auth'] : []),
      ...(secret !== undefined ? ['use-auth-secret', `static-auth-secret=${secret}`] : []),
      ...(opts.users?.length && !opts.noAuth ? ['lt-cred-mech', ...opts.users.map((u) => `user=${u.name}:${u.password}`)] : []),
      `userdb=${join(dir, 'turndb')}`,
      `pidfile=${join(dir, 'turnserver.pid')}`,
      `log-file=${logFile}`,
      'simple-log',
      'no-cli',
      ...(opts.stdoutLog ? [] : ['no-stdout-log']),
      ...(opts.allowLoopbackPeers === false ? [] : ['allow-loopback-peers']),
      ...(tls ? [`cert=${join(dir, 'cert.pem')}`, `pkey=${join(dir, 'key.pem')}`, 'no-dtls'] : ['no-tls', 'no-dtls']),
      ...(opts.noUdp ? ['no-udp'] : []),
      ...(opts.noTcp ? ['no-tcp'] : []),
      ...(opts.verbose ? ['verbose'] : []),
      ...(opts.extra ?? []),
    );
    const confPath = join(dir, 'turnserver.conf');
    await writeFile(confPath, lines.join('\n') + '\n', { mode: 0o600 });
    await writeFile(logFile, '');

    const cmd = opts.netns ? 'ip' : bin;
    const args = opts.netns ? ['netns', 'exec', opts.netns, bin, '-c', confPath] : ['-c', confPath];
    const proc = spawnGuarded(cmd, args, { cwd: dir, logFile: join(dir, 'stdout.log'), removeDir: keepDir ? undefined : dir });
    const readLog = () => {
      let s = '';
      for (const f of ['stdout.log', 'turnserver.log']) {
        try {
          s += readFileSync(join(dir, f), 'utf8');
        } catch {
          /* not yet */
        }
      }
      return s;
    };

    try {
      await waitReady(proc, opts, listenIps[0], port, tls ? tlsPort : 0, opts.readyTimeoutMs ?? 10_000);
    } catch (e) {
      const logText = readLog();
      await proc.stop(1000);
      lastErr = new LabCoturnError(`${(e as Error).message}\n--- coturn log tail (${dir}) ---\n${redact(tail(logText, 25), secretsOf(opts, secret))}`);
      // A bind clash with a parallel starter: try other ports.
      if (/Address already in use|cannot bind/i.test(logText) && attempt + 1 < attempts) continue;
      if (!keepDir) await rm(dir, { recursive: true, force: true });
      throw lastErr;
    }

    let finalLog: string | null = null;
    const h = (ip: string) => hostInUri(ip);
    return {
      port,
      tlsPort,
      altPort: rfc5780 ? port + 1 : undefined,
      tls,
      secret,
      realm,
      caPem,
      dir,
      pid: proc.pid,
      listenIps,
      relayPorts,
      netns: opts.netns,
      uris(host = listenIps[0]) {
        return {
          stun: `stun:${h(host)}:${port}`,
          turnUdp: `turn:${h(host)}:${port}?transport=udp`,
          turnTcp: `turn:${h(host)}:${port}?transport=tcp`,
          // Loopback turns: by name, as a real deployment would (SNI, hostname check).
          ...(tls ? { turns: `turns:${host === '127.0.0.1' || host === '::1' ? 'localhost' : h(host)}:${tlsPort}?transport=tcp` } : {}),
        };
      },
      log: () => finalLog ?? readLog(),
      async stop() {
        if (finalLog !== null) return;
        await proc.stop(3000);
        if (finalLog !== null) return;
        finalLog = readLog();
        if (!keepDir) await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw lastErr ?? new LabCoturnError('coturn did not start');
}

async function waitReady(proc: Guarded, opts: CoturnOptions, ip: string, port: number, tlsPort: number, timeoutMs: number): Promise<void> {
  if (proc.pid < 0) throw new LabCoturnError('could not spawn turnserver');
  const deadline = Date.now() + timeoutMs;
  // A coturn that ignores STUN (no-stun) is ready when it accepts TCP.
  const mode: 'udp' | 'tcp' = opts.noUdp || opts.extra?.includes('no-stun') ? 'tcp' : 'udp';
  const inNs = Boolean(opts.netns) && (opts.probeFrom ?? 'netns') === 'netns';
  while (Date.now() < deadline) {
    if (!proc.alive) {
      const { code, signal } = await proc.exited;
      throw new LabCoturnError(`turnserver exited during start (code ${code}, signal ${signal})`);
    }
    let ok: boolean;
    if (inNs) {
      ok = await netnsProbe(opts.netns!, ip, port, mode, tlsPort);
    } else {
      ok = mode === 'udp' ? await stunBindingUdp(ip, port, 300) : await tcpConnects(ip, port, 300);
      if (ok && tlsPort) ok = await tcpConnects(ip, tlsPort, 300);
    }
    if (ok) return;
    await sleep(100);
  }
  throw new LabCoturnError(`turnserver not answering on ${ip}:${port} (${mode}${tlsPort ? `, tls ${tlsPort}` : ''}) within ${timeoutMs} ms`);
}
