// A real Synapse homeserver for tests and the demo, from the venv that
// scripts/ensure-deps.sh makes (${MXV_SYNAPSE_VENV:-~/.cache/mx-voiptest/synapse-venv}).
//
// The config is written directly (faster than --generate-config, and every
// value is ours): sqlite, one client HTTP listener on 127.0.0.1 and a free
// port, no federation, registration only via the shared-secret admin API,
// rate limits raised out of the way, TURN settings from the options.
//
//   const hs = await startSynapse({ turnUris: [...], turnSharedSecret: coturn.secret });
//   const alice = await hs.registerUser('alice', 'pw');   // alice.accessToken is a Secret
//   await hs.stop();
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Secret } from '../../src/tester/secret';
import { findFreeTcpPort } from './ports';
import { sleep, spawnGuarded, tail, type Guarded } from './proc';

export interface SynapseOptions {
  turnUris?: string[];
  turnSharedSecret?: string;
  /** Static TURN credentials (turn_username/turn_password) instead of a shared secret. */
  turnUsername?: string;
  turnPassword?: string;
  /** Synapse duration, e.g. '1h' (bare numbers are milliseconds). */
  turnUserLifetime?: string;
  turnAllowGuests?: boolean;
  /** MatrixRTC: `experimental_features.msc4143_enabled` (serves .../org.matrix.msc4143/rtc/transports). */
  msc4143?: boolean;
  /** MatrixRTC: `matrix_rtc.transports`, e.g. [{type: 'livekit', livekit_service_url: URL}]. */
  rtcTransports?: Record<string, unknown>[];
  /** `extra_well_known_client_content` (e.g. {'org.matrix.msc4143.rtc_foci': [...]}). */
  extraWellKnownClient?: Record<string, unknown>;
  /** A second listener serving `openid` and `federation` (the MatrixRTC authorization service checks OpenID tokens over it). */
  federationListener?: boolean;
  /** Merged over the generated config (top-level keys replace). */
  extraConfig?: Record<string, unknown>;
  /** Default 'localhost'. */
  serverName?: string;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /** Default $MXV_SYNAPSE_VENV or ~/.cache/mx-voiptest/synapse-venv. */
  venv?: string;
  /** Parent of the instance dir; default $MXV_LAB_DIR or os.tmpdir(). */
  baseDir?: string;
  /** Keep the instance dir after stop() (also when $MXV_KEEP_LAB is set). */
  keepDir?: boolean;
  /** Readiness deadline; default 60000 ms (a cold first start takes ~10 s). */
  readyTimeoutMs?: number;
}

export interface SynapseUser {
  userId: string;
  accessToken: Secret;
  deviceId: string;
}

export interface SynapseLab {
  /** Client-server base URL, e.g. http://127.0.0.1:61234 */
  url: string;
  port: number;
  serverName: string;
  dir: string;
  /** Base URL of the openid/federation listener (federationListener), else null. */
  federationUrl: string | null;
  /** PID of the current process (changes on restart()). */
  readonly pid: number;
  /** Shared-secret registration (/_synapse/admin/v1/register). */
  registerUser(localpart: string, password: string, admin?: boolean): Promise<SynapseUser>;
  /** m.login.password login. */
  login(localpart: string, password: string): Promise<SynapseUser>;
  /** Stop and start again on the same port and data. */
  restart(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
  /** Synapse's log so far (homeserver.log + stdout/stderr). */
  log(): string;
}

export class LabSynapseError extends Error {
  override name = 'LabSynapseError';
}

export function defaultSynapseVenv(): string {
  return process.env.MXV_SYNAPSE_VENV ?? join(homedir(), '.cache', 'mx-voiptest', 'synapse-venv');
}

// Generous limits: tests log in and register in bursts.
const NO_LIMIT = { per_second: 10000, burst_count: 10000 };
const RATE_LIMITS = {
  rc_message: NO_LIMIT,
  rc_registration: NO_LIMIT,
  rc_registration_token_validity: NO_LIMIT,
  rc_login: { address: NO_LIMIT, account: NO_LIMIT, failed_attempts: NO_LIMIT },
  rc_admin_redaction: NO_LIMIT,
  rc_joins: { local: NO_LIMIT, remote: NO_LIMIT },
  rc_joins_per_room: NO_LIMIT,
  rc_3pid_validation: NO_LIMIT,
  rc_invites: { per_room: NO_LIMIT, per_user: NO_LIMIT, per_issuer: NO_LIMIT },
  rc_third_party_invite: NO_LIMIT,
  rc_media_create: NO_LIMIT,
  rc_presence: { per_user: NO_LIMIT },
  rc_delayed_event_mgmt: NO_LIMIT,
  rc_reports: NO_LIMIT,
};

function logConfig(file: string): string {
  return stringify({
    version: 1,
    formatters: { precise: { format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s' } },
    handlers: { file: { class: 'logging.FileHandler', formatter: 'precise', filename: file, encoding: 'utf8' } },
    loggers: { synapse: { level: 'INFO' }, 'synapse.storage.SQL': { level: 'WARNING' }, twisted: { level: 'WARNING' } },
    root: { level: 'INFO', handlers: ['file'] },
    disable_existing_loggers: false,
  });
}

async function fetchJson(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 10_000) });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { raw: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

/** Start Synapse and wait until /_matrix/client/versions answers. */
export async function startSynapse(opts: SynapseOptions = {}): Promise<SynapseLab> {
  const venv = opts.venv ?? defaultSynapseVenv();
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) throw new LabSynapseError(`no Synapse venv at ${venv}: run scripts/ensure-deps.sh`);
  const serverName = opts.serverName ?? 'localhost';
  const baseDir = opts.baseDir ?? process.env.MXV_LAB_DIR ?? tmpdir();
  await mkdir(baseDir, { recursive: true });
  const dir = await mkdtemp(join(baseDir, 'mxv-synapse-'));
  const keepDir = opts.keepDir ?? Boolean(process.env.MXV_KEEP_LAB);
  const port = opts.port ?? (await findFreeTcpPort('127.0.0.1'));
  const url = `http://127.0.0.1:${port}`;
  const fedPort = opts.federationListener ? await findFreeTcpPort('127.0.0.1') : 0;
  const federationUrl = fedPort ? `http://127.0.0.1:${fedPort}` : null;
  const listeners: Record<string, unknown>[] = [
    { port, bind_addresses: ['127.0.0.1'], type: 'http', tls: false, x_forwarded: false, resources: [{ names: ['client'], compress: false }] },
  ];
  if (fedPort) listeners.push({ port: fedPort, bind_addresses: ['127.0.0.1'], type: 'http', tls: false, x_forwarded: false, resources: [{ names: ['openid', 'federation'], compress: false }] });
  const sharedSecret = randomBytes(24).toString('base64url');

  // An ed25519 signing key in Synapse's format: "ed25519 <key id> <unpadded base64 seed>".
  await writeFile(join(dir, 'signing.key'), `ed25519 a_lab ${randomBytes(32).toString('base64').replace(/=+$/, '')}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'log.config'), logConfig(join(dir, 'homeserver.log')));
  const config: Record<string, unknown> = {
    server_name: serverName,
    public_baseurl: `${url}/`,
    pid_file: join(dir, 'homeserver.pid'),
    listeners,
    database: { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } },
    log_config: join(dir, 'log.config'),
    media_store_path: join(dir, 'media_store'),
    signing_key_path: join(dir, 'signing.key'),
    registration_shared_secret: sharedSecret,
    macaroon_secret_key: randomBytes(24).toString('base64url'),
    form_secret: randomBytes(24).toString('base64url'),
    enable_registration: false,
    report_stats: false,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    presence: { enabled: false },
    url_preview_enabled: false,
    enable_metrics: false,
    federation_domain_whitelist: [],
    ...RATE_LIMITS,
    ...(opts.turnUris ? { turn_uris: opts.turnUris } : {}),
    ...(opts.turnSharedSecret !== undefined ? { turn_shared_secret: opts.turnSharedSecret } : {}),
    ...(opts.turnUsername !== undefined ? { turn_username: opts.turnUsername } : {}),
    ...(opts.turnPassword !== undefined ? { turn_password: opts.turnPassword } : {}),
    ...(opts.turnUserLifetime !== undefined ? { turn_user_lifetime: opts.turnUserLifetime } : {}),
    ...(opts.turnAllowGuests !== undefined ? { turn_allow_guests: opts.turnAllowGuests } : {}),
    ...(opts.msc4143 ? { experimental_features: { msc4143_enabled: true } } : {}),
    ...(opts.rtcTransports ? { matrix_rtc: { transports: opts.rtcTransports } } : {}),
    ...(opts.extraWellKnownClient ? { extra_well_known_client_content: opts.extraWellKnownClient } : {}),
    ...(opts.extraConfig ?? {}),
  };
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(configPath, stringify(config), { mode: 0o600 });

  const readLog = () => {
    let s = '';
    for (const f of ['stdout.log', 'homeserver.log']) {
      try {
        s += readFileSync(join(dir, f), 'utf8');
      } catch {
        /* not yet */
      }
    }
    return s;
  };

  let proc: Guarded | null = null;
  const launch = async () => {
    proc = spawnGuarded(python, ['-m', 'synapse.app.homeserver', '-c', configPath], {
      cwd: dir,
      logFile: join(dir, 'stdout.log'),
      removeDir: keepDir ? undefined : dir,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', SYNAPSE_USE_FROZEN_DICTS: '0' },
    });
    try {
      await waitReady(proc, url, opts.readyTimeoutMs ?? 60_000);
    } catch (e) {
      await proc.stop(2000);
      throw new LabSynapseError(`${(e as Error).message}\n--- Synapse log tail (${dir}) ---\n${tail(readLog(), 25)}`);
    }
  };
  try {
    await launch();
  } catch (e) {
    if (!keepDir) await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const session = async (path: string, body: Record<string, unknown>): Promise<SynapseUser> => {
    const r = await fetchJson(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== 200 || typeof r.body?.access_token !== 'string') {
      throw new LabSynapseError(`${path} answered ${r.status} ${r.body?.errcode ?? ''} ${r.body?.error ?? ''}`.trim());
    }
    return { userId: r.body.user_id, accessToken: new Secret(r.body.access_token), deviceId: r.body.device_id };
  };

  let finalLog: string | null = null;
  let stopped = false;
  return {
    url,
    port,
    serverName,
    dir,
    federationUrl,
    get pid() {
      return (proc as Guarded | null)?.pid ?? -1;
    },
    async registerUser(localpart, password, admin = false) {
      const n = await fetchJson(`${url}/_synapse/admin/v1/register`);
      if (n.status !== 200 || typeof n.body?.nonce !== 'string') throw new LabSynapseError(`register nonce: HTTP ${n.status}`);
      const nonce: string = n.body.nonce;
      const mac = createHmac('sha1', sharedSecret)
        .update(`${nonce}\0${localpart}\0${password}\0${admin ? 'admin' : 'notadmin'}`)
        .digest('hex');
      return session('/_synapse/admin/v1/register', { nonce, username: localpart, password, admin, mac });
    },
    login(localpart, password) {
      return session('/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: localpart }, password });
    },
    async restart() {
      if (stopped) throw new LabSynapseError('restart() after stop()');
      await (proc as Guarded | null)?.stop(5000);
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await (proc as Guarded | null)?.stop(5000);
      finalLog = readLog();
      if (!keepDir) await rm(dir, { recursive: true, force: true });
    },
    log: () => finalLog ?? readLog(),
  };
}

async function waitReady(proc: Guarded, url: string, timeoutMs: number): Promise<void> {
  if (proc.pid < 0) throw new LabSynapseError('could not spawn Synapse');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.alive) {
      const { code, signal } = await proc.exited;
      throw new LabSynapseError(`Synapse exited during start (code ${code}, signal ${signal})`);
    }
    try {
      const r = await fetchJson(`${url}/_matrix/client/versions`, { timeoutMs: 1000 });
      if (r.status === 200 && Array.isArray(r.body?.versions)) return;
    } catch {
      /* not listening yet */
    }
    await sleep(200);
  }
  throw new LabSynapseError(`Synapse not answering ${url}/_matrix/client/versions within ${timeoutMs} ms`);
}
