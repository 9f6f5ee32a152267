// A real LiveKit SFU (livekit-server v1.9.11, built by scripts/ensure-deps.sh
// into ~/.cache/mx-voiptest/) for tests, the scenario lab and the demo.
//
// Each instance gets its own directory (config, TLS files, log) and free
// ports: HTTP/WebSocket, ICE/TCP (`rtc.tcp_port`), one UDP mux port
// (`rtc.udp_port`), and the embedded TURN's UDP and TLS ports. The log holds
// the TURN password (LiveKit logs it at info level): it stays in the
// instance directory and is never printed by anything here.
//
//   const lk = await startLiveKit({ turn: true });
//   // lk.wsUrl = ws://127.0.0.1:PORT, API key/secret lk.apiKey / lk.apiSecret (a Secret)
//   await lk.stop();
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Secret } from '../../src/tester/secret';
import { makeSelfSigned } from './certs';
import type { NetLab } from './netns';
import { findFreePortBlock, pickRelayRange } from './ports';
import { sleep, spawnGuarded, type Guarded } from './proc';

export const LIVEKIT_VERSION = 'v1.9.11';

export interface LiveKitOptions {
  /** API key; default 'lab-key'. */
  apiKey?: string;
  /** API secret (>= 32 chars); default random. */
  apiSecret?: string;
  /** `rtc.node_ip` (the address LiveKit puts in its ICE candidates); default 127.0.0.1. */
  nodeIp?: string;
  /** `room.auto_create`; default true (LiveKit's default). */
  autoCreate?: boolean;
  /** Embedded TURN (UDP + TLS with a self-signed certificate for `turnDomain`); default true. */
  turn?: boolean;
  /** `turn.domain` (LiveKit wants a dotted name; an IPv4 literal passes); default '127.0.0.1'. */
  turnDomain?: string;
  /** Extra `rtc.turn_servers` entries handed to clients. */
  turnServers?: { host: string; port: number; protocol: 'udp' | 'tcp' | 'tls'; username?: string; credential?: string }[];
  /** Merged over the generated config's `rtc` section. */
  rtc?: Record<string, unknown>;
  /**
   * Run inside this lab host's network namespace, on its address with LiveKit's
   * standard ports (7880 HTTP/WS, 7881 ICE/TCP, 7882 UDP, 3478 TURN/UDP,
   * `turnTlsPort` TURN/TLS): the lab's firewall faults (lab.drop) then hit it.
   */
  netns?: { lab: NetLab; host: string };
  /** TURN/TLS port (default 5349 in a namespace; LiveKit advertises 443 whatever this is). */
  turnTlsPort?: number;
  /** Parent of the instance dir; default $MXV_LAB_DIR or os.tmpdir(). */
  baseDir?: string;
  /** Default $MXV_LIVEKIT_BIN or ~/.cache/mx-voiptest/livekit-server-v1.9.11. */
  binary?: string;
  readyTimeoutMs?: number;
}

export interface LiveKitLab {
  /** The address LiveKit listens on (127.0.0.1, or the lab host's). */
  host: string;
  /** ws://127.0.0.1:PORT, what the authorization service hands clients. */
  wsUrl: string;
  /** http://127.0.0.1:PORT, the server API (room service). */
  httpUrl: string;
  port: number;
  tcpPort: number;
  udpPort: number;
  /** Embedded TURN ports (0 when TURN is off). */
  turnUdpPort: number;
  turnTlsPort: number;
  apiKey: string;
  apiSecret: Secret;
  /** The embedded TURN's self-signed certificate (PEM; --ca for TURN over TLS), or null without TURN. */
  turnCertPem: string | null;
  dir: string;
  readonly pid: number;
  /** Idempotent. */
  stop(): Promise<void>;
  /** Stop and start again with the same config and ports. */
  restart(): Promise<void>;
  /** LiveKit's log with TURN credentials masked (for a failing test's diagnosis only). */
  log(): string;
}

export class LabLiveKitError extends Error {
  override name = 'LabLiveKitError';
}

export function defaultLiveKitBinary(): string {
  return process.env.MXV_LIVEKIT_BIN ?? join(homedir(), '.cache', 'mx-voiptest', `livekit-server-${LIVEKIT_VERSION}`);
}

/** LiveKit logs credentials of its embedded TURN; mask anything that looks like one. */
function maskLog(s: string): string {
  return s.replace(/("?(?:password|credential|secret|username)"?\s*[:=]\s*)("[^"]*"|\S+)/gi, '$1[masked]');
}

export async function startLiveKit(opts: LiveKitOptions = {}): Promise<LiveKitLab> {
  const binary = opts.binary ?? defaultLiveKitBinary();
  if (!existsSync(binary)) throw new LabLiveKitError(`no livekit-server at ${binary}: run scripts/ensure-deps.sh`);
  const baseDir = opts.baseDir ?? process.env.MXV_LAB_DIR ?? tmpdir();
  await mkdir(baseDir, { recursive: true });
  const dir = await mkdtemp(join(baseDir, 'mxv-livekit-'));
  const apiKey = opts.apiKey ?? 'lab-key';
  const apiSecret = opts.apiSecret ?? randomBytes(24).toString('base64url');
  const turnOn = opts.turn ?? true;
  const host = opts.netns ? opts.netns.lab.host(opts.netns.host).v4 : '127.0.0.1';
  const base = opts.netns ? 0 : await findFreePortBlock(['127.0.0.1'], 5);
  const [port, tcpPort, udpPort, turnUdpPort] = opts.netns ? [7880, 7881, 7882, 3478] : [base, base + 1, base + 2, base + 3];
  const turnTlsPort = opts.turnTlsPort ?? (opts.netns ? 5349 : base + 4);
  const turnDomain = opts.turnDomain ?? host;
  const [relayMin, relayMax] = pickRelayRange(200);
  const config: Record<string, unknown> = {
    port,
    bind_addresses: [host],
    keys: { [apiKey]: apiSecret },
    rtc: {
      tcp_port: tcpPort,
      udp_port: udpPort,
      node_ip: opts.nodeIp ?? host,
      use_external_ip: false,
      enable_loopback_candidate: !opts.netns,
      // Only the lab address: the machine's other interfaces stay out of the candidates.
      ips: { includes: [`${host}/32`] },
      // Without its TURN LiveKit hands clients public STUN servers (Google's, Twilio's): keep the lab's traffic in the lab.
      ...(turnOn ? {} : { stun_servers: [`${host}:3478`] }),
      ...(opts.turnServers ? { turn_servers: opts.turnServers } : {}),
      ...(opts.rtc ?? {}),
    },
    room: { auto_create: opts.autoCreate ?? true, empty_timeout: 30, departure_timeout: 5 },
    logging: { level: 'info', json: false },
  };
  let turnCertPem: string | null = null;
  if (turnOn) {
    const cert = await makeSelfSigned({ cn: turnDomain, sans: [turnDomain] });
    await writeFile(join(dir, 'turn.crt'), cert.certPem);
    turnCertPem = cert.certPem;
    await writeFile(join(dir, 'turn.key'), cert.keyPem, { mode: 0o600 });
    config.turn = {
      enabled: true,
      domain: turnDomain,
      udp_port: turnUdpPort,
      tls_port: turnTlsPort,
      cert_file: join(dir, 'turn.crt'),
      key_file: join(dir, 'turn.key'),
      relay_range_start: relayMin,
      relay_range_end: relayMax,
    };
  }
  const configPath = join(dir, 'livekit.yaml');
  await writeFile(configPath, stringify(config), { mode: 0o600 });
  const logFile = join(dir, 'livekit.log');
  const wsUrl = `ws://${host}:${port}`;
  const httpUrl = `http://${host}:${port}`;

  let proc: Guarded | null = null;
  const launch = async () => {
    proc = opts.netns ? opts.netns.lab.spawn(opts.netns.host, [binary, '--config', configPath], { logFile }) : spawnGuarded(binary, ['--config', configPath], { cwd: dir, logFile, removeDir: dir });
    await waitReady(proc, httpUrl, opts.readyTimeoutMs ?? 20_000).catch(async (e) => {
      await proc?.stop(1000);
      throw new LabLiveKitError(`${(e as Error).message}\n--- LiveKit log tail (masked) ---\n${maskLog(readLog()).split('\n').slice(-15).join('\n')}`);
    });
  };
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await launch();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  let finalLog: string | null = null;
  return {
    host,
    wsUrl,
    httpUrl,
    port,
    tcpPort,
    udpPort,
    turnUdpPort: turnOn ? turnUdpPort : 0,
    turnTlsPort: turnOn ? turnTlsPort : 0,
    apiKey,
    apiSecret: new Secret(apiSecret),
    turnCertPem,
    dir,
    get pid() {
      return (proc as Guarded | null)?.pid ?? -1;
    },
    async restart() {
      await (proc as Guarded | null)?.stop(3000);
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await (proc as Guarded | null)?.stop(3000);
      finalLog = maskLog(readLog());
      await rm(dir, { recursive: true, force: true });
    },
    log: () => finalLog ?? maskLog(readLog()),
  };
}

async function waitReady(proc: Guarded, httpUrl: string, timeoutMs: number): Promise<void> {
  if (proc.pid < 0) throw new LabLiveKitError('could not spawn livekit-server');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.alive) {
      const { code, signal } = await proc.exited;
      throw new LabLiveKitError(`livekit-server exited during start (code ${code}, signal ${signal})`);
    }
    try {
      const r = await fetch(`${httpUrl}/`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new LabLiveKitError(`livekit-server not answering ${httpUrl}/ within ${timeoutMs} ms`);
}
