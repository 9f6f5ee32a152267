// A real Prosody (Debian's package) for the XMPP tests: one VirtualHost with a
// test account, STARTTLS and direct-TLS client ports, and mod_external_services
// (XEP-0215) advertising a lab coturn with a TURN REST shared secret.
//
// Each instance has its own config, data and certificate files in a temp dir,
// listens on loopback on free ports, runs in the foreground (-F) and is
// stopped by PID (proc.ts guards it). Readiness means the client port answers
// an XMPP stream header with stream features.
//
//   const p = await startProsody({ services: [{ type: 'turn', transport: 'udp', host: '127.0.0.1', port: 3478, secret: true }], secret });
//   // p.jid, p.password, p.port (STARTTLS), p.tlsPort (direct TLS), p.caPem
//   await p.stop();
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSelfSigned } from './certs';
import { findFreePortBlock } from './ports';
import { sleep, spawnGuarded, stoppable, tail, type Stoppable } from './proc';

/** One mod_external_services entry (Prosody's `external_services` table). */
export interface ProsodyService {
  type: 'stun' | 'turn' | 'turns' | string;
  transport?: 'udp' | 'tcp';
  host: string;
  port?: number;
  /** true: the instance's `external_service_secret`; a string: this service's own secret. */
  secret?: true | string;
  /** Static credentials (sent as given, restricted). */
  username?: string;
  password?: string;
  restricted?: boolean;
  ttl?: number;
  /** Credential algorithm; Prosody 0.12 derives it from `type` only for "turn", so "turns" needs algorithm = "turn". */
  algorithm?: 'turn';
}

export interface ProsodyOptions {
  /** Default 'lab.test'. */
  domain?: string;
  services?: ProsodyService[];
  /** `external_service_secret` (never logged). */
  secret?: string;
  /** false: mod_external_services is not loaded (the "discovery module off" scenario). */
  externalServices?: boolean;
  /** Default 'alice'. */
  user?: string;
  readyTimeoutMs?: number;
  baseDir?: string;
  keepDir?: boolean;
}

export interface ProsodyLab extends Stoppable {
  domain: string;
  jid: string;
  /** The account password (never log it). */
  password: string;
  /** STARTTLS client port. */
  port: number;
  /** Direct TLS (XEP-0368) client port. */
  tlsPort: number;
  /** Self-signed certificate of the domain: trust it as the CA. */
  caPem: string;
  dir: string;
}

export class LabProsodyError extends Error {
  override name = 'LabProsodyError';
}

function lua(v: string): string {
  return JSON.stringify(v); // a JSON string is a valid Lua string literal for our ASCII values
}

function serviceLua(s: ProsodyService): string {
  const f: string[] = [`type = ${lua(s.type)}`, `host = ${lua(s.host)}`];
  if (s.transport) f.push(`transport = ${lua(s.transport)}`);
  if (s.port !== undefined) f.push(`port = ${s.port}`);
  if (s.secret === true) f.push('secret = true');
  else if (typeof s.secret === 'string') f.push(`secret = ${lua(s.secret)}`);
  if (s.username !== undefined) f.push(`username = ${lua(s.username)}`);
  if (s.password !== undefined) f.push(`password = ${lua(s.password)}`);
  if (s.restricted) f.push('restricted = true');
  if (s.ttl !== undefined) f.push(`ttl = ${s.ttl}`);
  if (s.algorithm) f.push(`algorithm = ${lua(s.algorithm)}`);
  return `  { ${f.join('; ')} };`;
}

function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = execFile(cmd, args, { timeout: timeoutMs }, (err, _out, stderr) => {
      if (err) reject(new LabProsodyError(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${tail(String(stderr), 5)}`));
      else resolve();
    });
    p.stdin?.end(); // prosodyctl asks questions on a terminal; never wait for one
  });
}

/** True when the port answers a client stream header with <stream:features>. */
export function xmppStreamAnswers(ip: string, port: number, domain: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => s.write(`<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('features')) done(true);
    });
    s.once('error', () => done(false));
  });
}

export async function startProsody(opts: ProsodyOptions = {}): Promise<ProsodyLab> {
  if (!existsSync('/usr/bin/prosody')) throw new LabProsodyError('prosody not found: run scripts/ensure-deps.sh (installs Debian\'s prosody)');
  const domain = opts.domain ?? 'lab.test';
  const user = opts.user ?? 'alice';
  const password = randomBytes(12).toString('base64url');
  const baseDir = opts.baseDir ?? process.env.MXV_LAB_DIR ?? tmpdir();
  await mkdir(baseDir, { recursive: true });
  const dir = await mkdtemp(join(baseDir, 'mxv-prosody-'));
  const keepDir = opts.keepDir ?? Boolean(process.env.MXV_KEEP_LAB);
  await mkdir(join(dir, 'data'), { mode: 0o700 });
  const cert = await makeSelfSigned({ cn: domain, sans: [domain, 'localhost', '127.0.0.1'] });
  await writeFile(join(dir, 'cert.pem'), cert.certPem);
  await writeFile(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  const base = await findFreePortBlock(['127.0.0.1'], 2);
  const port = base;
  const tlsPort = base + 1;
  const logFile = join(dir, 'prosody.log');
  const ext = opts.externalServices !== false;
  const conf = [
    'run_as_root = true', // the temp dir is root's; a lab process, never a system service
    `certificates = ${lua(dir)}`,
    `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
    `data_path = ${lua(join(dir, 'data'))}`,
    `log = { { levels = { min = "info" }, to = "file", filename = ${lua(logFile)} } }`,
    'interfaces = { "127.0.0.1" }',
    `c2s_ports = { ${port} }`,
    `c2s_direct_tls_ports = { ${tlsPort} }`,
    's2s_ports = { }',
    'http_ports = { }',
    'https_ports = { }',
    'component_ports = { }',
    'modules_disabled = { "s2s" }',
    `modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "version"${ext ? ', "external_services"' : ''} }`,
    'authentication = "internal_hashed"',
    'storage = "internal"',
    'c2s_require_encryption = true',
    `ssl = { certificate = ${lua(join(dir, 'cert.pem'))}; key = ${lua(join(dir, 'key.pem'))} }`,
    `c2s_direct_tls_ssl = { certificate = ${lua(join(dir, 'cert.pem'))}; key = ${lua(join(dir, 'key.pem'))} }`,
    ...(opts.secret !== undefined ? [`external_service_secret = ${lua(opts.secret)}`] : []),
    'external_service_ttl = 3600',
    'external_services = {',
    ...(opts.services ?? []).map(serviceLua),
    '}',
    `VirtualHost ${lua(domain)}`,
    `  ssl = { certificate = ${lua(join(dir, 'cert.pem'))}; key = ${lua(join(dir, 'key.pem'))} }`,
    '',
  ].join('\n');
  const confPath = join(dir, 'prosody.cfg.lua');
  await writeFile(confPath, conf, { mode: 0o600 });
  await writeFile(logFile, '');
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8') + readFileSync(join(dir, 'stdout.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const cleanup = async () => {
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('prosodyctl', ['--config', confPath, 'register', user, domain, password]);
  } catch (e) {
    await cleanup();
    throw e;
  }
  const proc = spawnGuarded('prosody', ['--config', confPath, '-F'], { cwd: dir, logFile: join(dir, 'stdout.log'), removeDir: keepDir ? undefined : dir });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  let ready = false;
  while (Date.now() < deadline) {
    if (!proc.alive) break;
    if (await xmppStreamAnswers('127.0.0.1', port, domain, 400)) {
      ready = true;
      break;
    }
    await sleep(100);
  }
  if (!ready) {
    const text = readLog();
    await proc.stop(1000);
    await cleanup();
    throw new LabProsodyError(`prosody did not answer on 127.0.0.1:${port}\n--- prosody log tail ---\n${tail(text.split(password).join('[redacted]').split(opts.secret ?? '\u0000').join('[redacted]'), 25)}`);
  }
  return {
    domain,
    jid: `${user}@${domain}`,
    password,
    port,
    tlsPort,
    caPem: cert.certPem,
    dir,
    ...stoppable(proc, readLog, cleanup, 3000),
  };
}
