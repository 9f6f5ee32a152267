// A real ejabberd (Debian's package) for the XMPP tests: one host with a test
// account, STARTTLS and direct-TLS client ports, its built-in STUN/TURN
// (ejabberd_stun listener, use_turn) and mod_stun_disco (XEP-0215).
//
// Started as a plain Erlang VM (`erl -s ejabberd`, no node name, so no epmd
// and no distribution port), not through ejabberdctl, which switches to the
// ejabberd user and daemonises; so the PID we hold is the server's. The
// account is registered by an -eval after start, reading its password from a
// file (never on a command line). Own config/spool/log in a temp dir,
// loopback, free ports, stopped by PID.
//
//   const e = await startEjabberd({ turn: true });
//   // e.jid, e.password, e.port (STARTTLS), e.tlsPort, e.stunPort (UDP+TCP STUN/TURN)
//   await e.stop();
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSelfSigned } from './certs';
import { stunBindingUdp } from './coturn';
import { findFreePortBlock, pickRelayRange } from './ports';
import { sleep, spawnGuarded, stoppable, tail, type Stoppable } from './proc';
import { xmppStreamAnswers } from './prosody';

export interface EjabberdOptions {
  /** Default 'lab.test'. */
  domain?: string;
  /** Start the ejabberd_stun listeners with use_turn (default true). */
  turn?: boolean;
  /** mod_stun_disco on (default true): off is the "discovery module off" scenario. */
  stunDisco?: boolean;
  /**
   * Advertise the TURN service on this port instead of the listener's
   * (mod_stun_disco `services`, offer_local_services off): a port where
   * nothing listens is the "TURN not listening on the advertised port" scenario.
   */
  advertisePort?: number;
  /** Default 'alice'. */
  user?: string;
  readyTimeoutMs?: number;
  baseDir?: string;
  keepDir?: boolean;
}

export interface EjabberdLab extends Stoppable {
  domain: string;
  jid: string;
  password: string;
  port: number;
  tlsPort: number;
  /** The ejabberd_stun port (UDP and TCP), when `turn`. */
  stunPort: number;
  relayPorts: [number, number];
  caPem: string;
  dir: string;
}

export class LabEjabberdError extends Error {
  override name = 'LabEjabberdError';
}

const ERL = '/usr/bin/erl';
const CTL = '/usr/sbin/ejabberdctl';

/** Where Debian put ejabberd's Erlang applications: ejabberdctl's ERL_LIBS (multiarch path). */
function erlLibs(): string {
  const m = /^ERL_LIBS='([^']+)'/m.exec(readFileSync(CTL, 'utf8'));
  return m?.[1] ?? '/usr/lib/x86_64-linux-gnu';
}

function q(s: string): string {
  return JSON.stringify(s); // YAML accepts JSON strings
}

export async function startEjabberd(opts: EjabberdOptions = {}): Promise<EjabberdLab> {
  if (!existsSync(CTL) || !existsSync(ERL)) throw new LabEjabberdError('ejabberd not found: run scripts/ensure-deps.sh (installs Debian\'s ejabberd)');
  const domain = opts.domain ?? 'lab.test';
  const user = opts.user ?? 'alice';
  const turn = opts.turn !== false;
  const password = randomBytes(12).toString('base64url');
  const baseDir = opts.baseDir ?? process.env.MXV_LAB_DIR ?? tmpdir();
  await mkdir(baseDir, { recursive: true });
  const dir = await mkdtemp(join(baseDir, 'mxv-ejabberd-'));
  const keepDir = opts.keepDir ?? Boolean(process.env.MXV_KEEP_LAB);
  const cleanup = async () => {
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  };
  await mkdir(join(dir, 'spool'), { mode: 0o700 });
  const cert = await makeSelfSigned({ cn: domain, sans: [domain, 'localhost', '127.0.0.1'] });
  await writeFile(join(dir, 'xmpp.pem'), cert.certPem + cert.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'account'), password, { mode: 0o600 });
  const base = await findFreePortBlock(['127.0.0.1'], 3);
  const port = base;
  const tlsPort = base + 1;
  const stunPort = base + 2;
  const relayPorts = pickRelayRange(200);
  const turnOpts = [
    '    use_turn: true',
    '    turn_ipv4_address: "127.0.0.1"',
    `    turn_min_port: ${relayPorts[0]}`,
    `    turn_max_port: ${relayPorts[1]}`,
  ];
  const listen = [
    `  - { port: ${port}, ip: "127.0.0.1", module: ejabberd_c2s, starttls_required: true }`,
    `  - { port: ${tlsPort}, ip: "127.0.0.1", module: ejabberd_c2s, tls: true }`,
    ...(turn
      ? [
          `  - port: ${stunPort}`,
          '    ip: "127.0.0.1"',
          '    transport: udp',
          '    module: ejabberd_stun',
          ...turnOpts,
          `  - port: ${stunPort}`,
          '    ip: "127.0.0.1"',
          '    transport: tcp',
          '    module: ejabberd_stun',
          ...turnOpts,
        ]
      : []),
  ];
  const disco =
    opts.stunDisco === false
      ? []
      : opts.advertisePort !== undefined
        ? [
            '  mod_stun_disco:',
            '    offer_local_services: false',
            '    services:',
            `      - { host: 127.0.0.1, port: ${stunPort}, type: stun, transport: udp, restricted: false }`,
            `      - { host: 127.0.0.1, port: ${opts.advertisePort}, type: turn, transport: udp, restricted: true }`,
          ]
        : ['  mod_stun_disco: {}'];
  const conf = [
    'hosts:',
    `  - ${q(domain)}`,
    'loglevel: info',
    'certfiles:',
    `  - ${q(join(dir, 'xmpp.pem'))}`,
    'auth_method: internal',
    'auth_password_format: scram',
    'listen:',
    ...listen,
    'acl:',
    '  local:',
    '    user_regexp: ""',
    'access_rules:',
    '  local:',
    '    allow: local',
    'modules:',
    '  mod_disco: {}',
    '  mod_ping: {}',
    '  mod_version: {}',
    ...disco,
    '',
  ].join('\n');
  const confPath = join(dir, 'ejabberd.yml');
  await writeFile(confPath, conf, { mode: 0o600 });
  const logFile = join(dir, 'ejabberd.log');
  const register = `{ok, P} = file:read_file(${q(join(dir, 'account'))}), R = ejabberd_auth:try_register(<<${q(user)}/utf8>>, <<${q(domain)}/utf8>>, P), io:format("mxv-register ~p~n", [R]).`;
  const args = [
    '-noinput',
    '+K', 'true',
    '-mnesia', 'dir', q(join(dir, 'spool')),
    '-ejabberd', 'config', q(confPath), 'log_path', q(logFile),
    '-s', 'ejabberd',
    '-eval', register,
  ];
  const env = {
    ...process.env,
    HOME: dir,
    EJABBERD_CONFIG_PATH: confPath,
    EJABBERD_LOG_PATH: logFile,
    ERL_LIBS: erlLibs(),
    ERL_CRASH_DUMP: join(dir, 'erl_crash.dump'),
    ERL_CRASH_DUMP_BYTES: '0',
  };
  const stdout = join(dir, 'stdout.log');
  const proc = spawnGuarded(ERL, args, { cwd: dir, env, logFile: stdout, removeDir: keepDir ? undefined : dir });
  const readLog = () => {
    let s = '';
    for (const f of [stdout, logFile]) {
      try {
        s += readFileSync(f, 'utf8');
      } catch {
        /* not yet */
      }
    }
    return s;
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let ready = false;
  while (Date.now() < deadline && proc.alive) {
    const registered = /mxv-register (ok|\{error,exists\})/.test(readLog());
    if (registered && (await xmppStreamAnswers('127.0.0.1', port, domain, 400)) && (!turn || (await stunBindingUdp('127.0.0.1', stunPort, 300)))) {
      ready = true;
      break;
    }
    if (/mxv-register \{error/.test(readLog()) && !/exists/.test(readLog())) break;
    await sleep(200);
  }
  if (!ready) {
    const text = readLog();
    await proc.stop(2000);
    await cleanup();
    throw new LabEjabberdError(`ejabberd did not become ready on 127.0.0.1:${port}\n--- ejabberd log tail ---\n${tail(text.split(password).join('[redacted]'), 30)}`);
  }
  return {
    domain,
    jid: `${user}@${domain}`,
    password,
    port,
    tlsPort,
    stunPort,
    relayPorts,
    caPem: cert.certPem,
    dir,
    ...stoppable(proc, readLog, cleanup, 5000),
  };
}
