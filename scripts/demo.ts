// `npm run demo`: the product on one machine.
//
// Starts coturn, the lab MatrixRTC stack (scripts/lab/matrixrtc.ts: LiveKit,
// the lab's stand-in for lk-jwt-service, and a Synapse with msc4143 and
// matrix_rtc.transports whose turn_uris and turn_shared_secret point at that
// coturn), and the bot (src/main.ts) with a generated config; registers an admin user,
// creates an admin room with the bot in it, sends `!voiptest`, prints the
// report, and prints how to log in with a Matrix client to see it. Runs until
// Ctrl-C, which stops everything it started (by PID). Every run uses a fresh
// data directory (removed at the end unless --keep), so running it twice just
// works.
//
// As root (the usual case: the lab needs network namespaces), coturn is the
// scenario lab's hardened coturn (test/scenarios/base.ts, the README's
// settings) in a namespace of its own, on lab addresses the bot treats as
// public: a healthy production setup, so the first report is Excellent.
// `--fault NAME` starts the same stack with one of the lab's faults instead.
// LiveKit then runs in a namespace of its own too (on a lab address, without
// its embedded TURN: see below), so the report's MatrixRTC part is Great beside IPv4 and IPv6.
// Without root it falls back to coturn (and LiveKit) on loopback, where the relay has to
// reach 127.0.0.1 to test itself (so ACL-1 shows, and the demo says why).
//
//   tsx scripts/demo.ts [--once] [--keep] [--port N] [--quality off|audio|video] [--timeout-ms N] [--fault NAME] [--loopback]
//     --once      exit after printing the report (tests, CI); exit 1 if no report came
//     --keep      keep the data directory (configs, logs, SQLite history)
//     --port N    Synapse client port (default: a free one)
//     --fault N   one fault of the scenario lab (see --help for the names)
//     --loopback  coturn on loopback even as root (no namespace)
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { SCENARIOS } from '../test/scenarios';
import { LAB_NAME, LAB_PUBLIC } from '../test/scenarios/base';
import { openScenarioLab, type ScenarioLab, type Served } from '../test/scenarios/runner';
import type { Scenario } from '../test/scenarios/types';
import { startCoturn, spawnGuarded, tail, type CoturnLab, type Guarded, type SynapseLab } from './lab';
import { startMatrixRtcLab, type MatrixRtcLab } from './lab/matrixrtc';

const ROOT = resolve(__dirname, '..');

export interface DemoArgs {
  once: boolean;
  keep: boolean;
  port?: number;
  quality: 'off' | 'audio' | 'video';
  timeoutMs: number;
  /** A scenario-lab fault to start instead of the healthy setup. */
  fault?: string;
  /** Force the loopback coturn (no namespace). */
  loopback?: boolean;
}

/**
 * The lab's faults a demo can show: a coturn or network fault behind a
 * Synapse that mints credentials from the right secret (credential-side and
 * realm faults need a client the lab controls, not a homeserver).
 */
export const DEMO_FAULTS: readonly Scenario[] = SCENARIOS.filter((s) => s.credentials === 'secret' && !s.expectedRealm && !s.name.startsWith('healthy'));
const HEALTHY = SCENARIOS.find((s) => s.name === 'healthy')!;

export function demoUsage(): string {
  const names = DEMO_FAULTS.map((s) => `    ${s.name.padEnd(22)} ${s.title}`).join('\n');
  return `usage: npm run demo -- [--once] [--keep] [--port N] [--quality off|audio|video] [--timeout-ms N] [--fault NAME] [--loopback]\n` +
    `  --fault NAME  start the same stack with one fault of the scenario lab (needs root), one of:\n${names}\n`;
}

export function parseDemoArgs(argv: string[]): DemoArgs {
  const a: DemoArgs = { once: false, keep: false, quality: 'audio', timeoutMs: 120_000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--once') a.once = true;
    else if (k === '--keep') a.keep = true;
    else if (k === '--port') {
      const p = Number(val());
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error('--port must be 1..65535');
      a.port = p;
    } else if (k === '--quality') {
      const q = val();
      if (q !== 'off' && q !== 'audio' && q !== 'video') throw new Error('--quality must be off, audio or video');
      a.quality = q;
    } else if (k === '--timeout-ms') {
      const t = Number(val());
      if (!Number.isInteger(t) || t < 5000) throw new Error('--timeout-ms must be an integer >= 5000');
      a.timeoutMs = t;
    } else if (k === '--fault') {
      const f = val();
      if (!DEMO_FAULTS.some((s) => s.name === f)) throw new Error(`--fault must be one of: ${DEMO_FAULTS.map((s) => s.name).join(', ')} (not "${f.slice(0, 40)}")`);
      a.fault = f;
    } else if (k === '--loopback') {
      a.loopback = true;
    } else if (k === '--help' || k === '-h') {
      process.stdout.write(demoUsage());
      process.exit(0);
    } else throw new Error(`unknown option ${k} (see --help)`);
  }
  return a;
}

const say = (s: string) => process.stderr.write(`demo: ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A production-like coturn hardening (what the README recommends), so the
 * demo report shows the one finding a loopback lab cannot avoid: the relay
 * must reach 127.0.0.1 (allow-loopback-peers) for the tester's own peers, and
 * the bot rightly calls that unsafe (ACL-1).
 */
export const DEMO_COTURN_HARDENING = [
  'no-tcp-relay',
  'no-software-attribute',
  'response-origin-only-with-rfc5780',
  'no-stun-backward-compatibility',
  'denied-peer-ip=0.0.0.0-0.255.255.255',
  'denied-peer-ip=10.0.0.0-10.255.255.255',
  'denied-peer-ip=100.64.0.0-100.127.255.255',
  'denied-peer-ip=169.254.0.0-169.254.255.255',
  'denied-peer-ip=172.16.0.0-172.31.255.255',
  'denied-peer-ip=192.168.0.0-192.168.255.255',
  'denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255',
  'denied-peer-ip=64:ff9b::-64:ff9b::ffff:ffff',
];

class DemoError extends Error {
  override name = 'DemoError';
}

/** A tiny Matrix client-server API caller for the demo admin (fetch, deadlines, typed errors). */
function api(base: string, token: string) {
  return async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (!res.ok) throw new DemoError(`${method} ${path.split('?')[0]} -> HTTP ${res.status} ${text.slice(0, 200)}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

interface Ev {
  event_id: string;
  sender: string;
  type: string;
  origin_server_ts: number;
  content: { msgtype?: string; body?: string; 'm.relates_to'?: { 'm.in_reply_to'?: { event_id?: string } } };
}

async function main(): Promise<number> {
  const args = parseDemoArgs(process.argv.slice(2));
  const parent = process.env.MXV_DEMO_DIR ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, 'mxv-demo-'));
  let coturn: CoturnLab | null = null;
  let scenarioLab: ScenarioLab | null = null;
  let served: Served | null = null;
  let rtc: MatrixRtcLab | null = null;
  let synapse: SynapseLab | null = null;
  let bot: Guarded | null = null;
  let stopping: Promise<void> | null = null;
  const botLog = join(dir, 'bot.log');

  // The lab's children, timers and watchdogs are all unref'd: without a ref'd
  // handle Node would exit mid-shutdown (skipping the cleanup) when nothing
  // else is pending.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      say('stopping the bot, Synapse, LiveKit, the authorization stand-in and coturn');
      await bot?.stop(8000).catch(() => undefined);
      await rtc?.stop().catch(() => undefined);
      await coturn?.stop().catch(() => undefined);
      await served?.stop().catch(() => undefined);
      await scenarioLab?.close().catch(() => undefined);
      if (!args.keep) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      else say(`kept ${dir}`);
      clearInterval(keepAlive);
    })();
    return stopping;
  };
  let interrupted = false;
  const onSignal = (sig: string) => {
    if (interrupted) {
      say('second interrupt: exiting now (children are killed by their guards)');
      process.exit(130);
    }
    interrupted = true;
    say(`${sig}: shutting down`);
    void stopAll().then(() => process.exit(0));
  };
  // Piped into `head`: a closed stdout must not skip the cleanup.
  process.stdout.on('error', () => undefined);
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    say(`data directory ${dir}`);
    const isRoot = process.getuid?.() === 0;
    if (args.fault && (!isRoot || args.loopback)) throw new DemoError('--fault needs root: the scenario lab runs coturn in a network namespace');
    const inLab = isRoot && !args.loopback;
    let turnUris: string[];
    let turnSecret: string;
    let caPem: string;
    // What the bot's engine needs to test this coturn (config `engine`).
    let engineLab: Record<string, unknown>;
    const caFile = join(dir, 'coturn-ca.pem');
    if (inLab) {
      const scenario = args.fault ? DEMO_FAULTS.find((x) => x.name === args.fault)! : HEALTHY;
      say(`starting coturn in a network namespace: ${scenario.name} (${scenario.title})`);
      scenarioLab = await openScenarioLab([scenario]);
      served = await scenarioLab.serve(scenario);
      turnUris = served.uris;
      turnSecret = served.secret;
      caPem = (served.ca ?? []).join('\n');
      const dns = scenario.dns ?? { a: true, aaaa: true };
      const h = served.host;
      engineLab = {
        // The homeserver is on loopback; the TURN server is on the lab's
        // addresses, which stand in for the public Internet (as in the scenario lab).
        allowPrivate: true,
        assumePublic: LAB_PUBLIC,
        hosts: [...(dns.a ? [`${LAB_NAME}=${h.v4}`] : []), ...(dns.aaaa && h.v6 ? [`${LAB_NAME}=${h.v6}`] : [])],
        family: scenario.family ?? 'both',
      };
    } else {
      say(isRoot ? 'starting coturn (UDP, TCP and TLS on loopback, --loopback)' : 'starting coturn (UDP, TCP and TLS on loopback; as root the demo runs it in a network namespace)');
      coturn = await startCoturn({ tls: true, baseDir: dir, realm: 'demo.localhost', keepDir: args.keep, noRfc5780: true, extra: DEMO_COTURN_HARDENING });
      const u = coturn.uris('127.0.0.1');
      turnUris = [u.turnUdp, u.turnTcp, ...(u.turns ? [u.turns] : []), `turn:[::1]:${coturn.port}?transport=udp`];
      turnSecret = coturn.secret!;
      caPem = coturn.caPem ?? '';
      // Loopback lab: targets and relays are 127.0.0.1/::1, which a real
      // deployment would refuse (see README, security notes).
      engineLab = { allowPrivate: true, assumePublic: ['127.0.0.0/8', '::1/128'] };
    }

    say(`starting Synapse (turn_uris + turn_shared_secret -> that coturn; msc4143 + matrix_rtc.transports), LiveKit${inLab ? ' in a network namespace' : ' on loopback'} and the lab's lk-jwt-service stand-in; a cold start takes ~10 s`);
    rtc = await startMatrixRtcLab({
      netns: inLab,
      // LiveKit without its embedded TURN: that TURN has no peer deny list, so the bot rightly flags it
      // (ACL-1..3, critical) and the first report would be "unsafe". Handing out the hardened coturn
      // instead (rtc.turn_servers) is the production fix, but the lab's namespaces are isolated from each
      // other (coturn's has no route to the SFU's), so relayed media could not reach LiveKit; so MatrixRTC
      // grades Great here (RTC-6: no TURN), not Excellent.
      livekit: { baseDir: dir, turn: false },
      synapse: { turnUris, turnSharedSecret: turnSecret, turnUserLifetime: '1h', baseDir: dir, port: args.port, keepDir: args.keep },
    });
    synapse = rtc.synapse;
    // The bot trusts coturn's CA and LiveKit's self-signed TURN/TLS certificate.
    caPem = [caPem, rtc.livekit.turnCertPem ?? ''].filter(Boolean).join('\n');
    await writeFile(caFile, caPem);

    const adminPassword = randomBytes(9).toString('base64url');
    const admin = await synapse.registerUser('admin', adminPassword, true);
    const botUser = await synapse.registerUser('voiptest', randomBytes(18).toString('base64url'));
    const as = api(synapse.url, admin.accessToken.reveal());

    // The room exists before the bot starts, so the config can name it as the
    // admin room; the bot accepts the pending invite on its first sync.
    const { room_id: roomId } = await as<{ room_id: string }>('POST', '/_matrix/client/v3/createRoom', {
      preset: 'private_chat',
      name: 'VoIP admin room (demo)',
      // An alias names the room in the config: newer room versions have ids without ':server'.
      room_alias_name: 'voip-admin',
      topic: 'mx-voiptest demo: type !voiptest',
      invite: [botUser.userId],
    });

    const config = {
      homeserver: { url: synapse.url, userId: botUser.userId, deviceId: botUser.deviceId },
      dataDir: join(dir, 'bot-data'),
      admins: [admin.userId],
      adminRooms: [`#voip-admin:${synapse.serverName}`],
      invites: { users: [admin.userId] },
      limits: { userCooldownSeconds: 5, roomCooldownSeconds: 5 },
      schedule: { enabled: true, cron: '0 8 * * *', timezone: 'UTC' },
      engine: {
        ...engineLab,
        ca: caPem ? [caFile] : [],
        quality: args.quality,
        // Lab use: the OpenID check (RTC-4) goes to the lab Synapse's federation listener (no 8448, no .well-known/matrix/server here).
        ...(synapse.federationUrl ? { rtcFederationUrl: synapse.federationUrl } : {}),
      },
      logging: { level: 'info', format: 'text' },
      // /healthz + /metrics on a free port (9464 may be another bot's).
      ops: { listen: '127.0.0.1:0' },
    };
    const configFile = join(dir, 'bot.yaml');
    await writeFile(configFile, `# Generated by scripts/demo.ts; the access token is passed in MXV_ACCESS_TOKEN.\n${stringify(config)}`, { mode: 0o600 });

    say('starting the bot');
    // One process (node with the tsx loader), not the tsx CLI wrapper: the PID
    // we stop is the bot itself, so nothing outlives the demo.
    bot = spawnGuarded(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), '--config', configFile], {
      cwd: ROOT,
      logFile: botLog,
      env: { ...process.env, MXV_ACCESS_TOKEN: botUser.accessToken.reveal(), MXV_CONFIG: '' },
    });
    const botTail = () => {
      try {
        return tail(readFileSync(botLog, 'utf8'), 25);
      } catch {
        return '(no bot log)';
      }
    };

    // Wait for the bot to join the room.
    const joinDeadline = Date.now() + 60_000;
    for (;;) {
      if (!bot.alive) throw new DemoError(`the bot exited during start-up\n--- bot log ---\n${botTail()}`);
      const m = await as<{ joined: Record<string, unknown> }>('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`);
      if (botUser.userId in m.joined) break;
      if (Date.now() > joinDeadline) throw new DemoError(`the bot did not join the room within 60 s\n--- bot log ---\n${botTail()}`);
      await sleep(300);
    }
    say(`the bot joined ${roomId}; sending !voiptest`);

    const { event_id: cmdId } = await as<{ event_id: string }>(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/demo${Date.now()}`,
      { msgtype: 'm.text', body: '!voiptest' },
    );

    // The report is the bot's reply to the command that starts with the verdict
    // (other replies are refusals such as "busy" or "cannot test that"); its
    // details follow as thread replies under it.
    const t0 = Date.now();
    let report: Ev | null = null;
    let refusal: Ev | null = null;
    while (!report && !refusal) {
      if (!bot.alive) throw new DemoError(`the bot exited during the run\n--- bot log ---\n${botTail()}`);
      if (Date.now() - t0 > args.timeoutMs) throw new DemoError(`no report within ${args.timeoutMs} ms\n--- bot log ---\n${botTail()}`);
      await sleep(500);
      const page = await as<{ chunk: Ev[] }>('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=30`);
      const chunk = [...page.chunk].reverse();
      const after = chunk.slice(chunk.findIndex((e) => e.event_id === cmdId) + 1);
      for (const e of after) {
        if (e.sender !== botUser.userId || e.type !== 'm.room.message' || e.content.msgtype !== 'm.notice') continue;
        if (e.content['m.relates_to']?.['m.in_reply_to']?.event_id !== cmdId) continue;
        if (/^VoIP check of /.test(e.content.body ?? '')) report = e;
        else refusal = e;
        break;
      }
    }
    if (refusal) throw new DemoError(`the bot refused the run: ${refusal.content.body ?? ''}`);
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);

    const out = process.stdout;
    out.write(`\n===== the report the bot posted in the admin room (${seconds} s) =====\n\n`);
    out.write(`${report!.content.body ?? ''}\n`);
    if (!inLab) {
      out.write('\n(On loopback the relay has to reach 127.0.0.1 to test itself, so the bot flags the loopback ACL (ACL-1)\n');
      out.write(' as unsafe; as root the demo runs coturn in a network namespace, where it is Excellent.)\n');
    }
    out.write('\n===== see it in a Matrix client =====\n\n');
    out.write(`  Homeserver:  ${synapse.url}\n`);
    out.write(`  User:        ${admin.userId}   (user name: admin)\n`);
    out.write(`  Password:    ${adminPassword}   (a throwaway demo account on loopback)\n`);
    out.write(`  Room:        #voip-admin:${synapse.serverName}  ("VoIP admin room (demo)")\n`);
    out.write(`  Bot:         ${botUser.userId}  (type !voiptest help in the room)\n`);
    out.write(`  MatrixRTC:   LiveKit ${rtc.livekit.wsUrl}; authorization service ${rtc.serviceUrl} is the lab's stand-in for lk-jwt-service (lab only, never shipped)\n\n`);
    out.write('  Any Matrix client on this machine works (Element Desktop, or Element Web at https://app.element.io\n');
    out.write('  with "Edit" homeserver set to the URL above). From another machine, forward the port first:\n');
    out.write(`    ssh -L ${synapse.port}:127.0.0.1:${synapse.port} root@this-host\n\n`);
    out.write(`  Logs: bot ${botLog}${args.keep ? '' : ' (removed on exit; --keep keeps them)'}\n`);

    if (args.once) {
      await stopAll();
      return 0;
    }
    out.write('\nRunning. Press Ctrl-C to stop the bot, Synapse, LiveKit, the stand-in and coturn.\n');
    // Stay up; report if a child dies on its own.
    await Promise.race([
      bot.exited.then(() => {
        if (!interrupted) say(`the bot exited unexpectedly\n--- bot log ---\n${botTail()}`);
      }),
      new Promise<never>(() => undefined),
    ]);
    await stopAll();
    return 1;
  } catch (e) {
    say(`failed: ${e instanceof Error ? e.message : String(e)}`);
    await stopAll();
    return 1;
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      say(`fatal: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
