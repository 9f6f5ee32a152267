// Run scenarios for real: one lab of network namespaces (scripts/lab/netns.ts)
// with one host per scenario, the scenario's server inside its host (coturn
// with the scenario's config, or a non-TURN service), its firewall rules, then
// the engine in this process against the host's lab addresses, judged by
// judge.ts. Every address the tester talks to is in the lab (198.18.x /
// 2001:db8:: on the root link, or a 10.x route that leads into the lab).
//
//   const session = await openScenarioLab(SCENARIOS);
//   try { const outcomes = await session.runAll({ concurrency: 3 }); } finally { await session.close(); }
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, makeSelfSigned, sleep, tcpConnects, type CertPair, type CoturnLab, type CoturnOptions, type Guarded, type LabHost, type NetLab } from '../../scripts/lab';
import { restPassword } from '../../src/tester/credentials/rest';
import type { CredentialSpec } from '../../src/tester/credentials/types';
import { runCheck } from '../../src/tester/engine';
import type { CheckOptions } from '../../src/tester/options';
import type { Lookup } from '../../src/tester/probes/dns';
import type { Report } from '../../src/tester/report';
import { Secret } from '../../src/tester/secret';
import { DENY_LOOPBACK_PEERS, DENY_PRIVATE_PEERS, DENY_SPECIAL_PEERS, HARDENING, LAB_NAME, LAB_PUBLIC, NO_TCP_RELAY, OTHER_NAME } from './base';
import { judge, type Judgement } from './judge';
import { PENDING_CHECKS } from './pending';
import type { CoturnSetup, CredentialKind, FirewallRule, HostForm, Scenario, UriKind } from './types';

export const TURN_PORT = 3478;
export const TLS_PORT = 443;
const ENGINE_TIMEOUT_MS = 20_000;

export interface Outcome {
  scenario: Scenario;
  /** Engine wall time (what the admin waits for). */
  wallMs: number;
  /** Lab setup time (server start, rules). */
  setupMs: number;
  report?: Report;
  judgement?: Judgement;
  /** Setup or engine error: the scenario counts as failed. */
  error?: string;
}

/** Everything a scenario started, undone in reverse. */
class Teardown {
  private readonly steps: (() => Promise<unknown>)[] = [];
  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const s of this.steps.reverse()) await s().catch(() => undefined);
  }
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 5000 }, (err, _out, stderr) => (err ? reject(new Error(`ip ${args.join(' ')}: ${String(stderr).trim()}`)) : resolve()));
  });
}

function uriFor(kind: UriKind, host: string): string {
  switch (kind) {
    case 'stun':
      return `stun:${host}:${TURN_PORT}`;
    case 'turn-udp':
      return `turn:${host}:${TURN_PORT}?transport=udp`;
    case 'turn-tcp':
      return `turn:${host}:${TURN_PORT}?transport=tcp`;
    case 'turns':
      return `turns:${host}:${TLS_PORT}?transport=tcp`;
  }
}

/** The scenario's URIs, and which kind each one is (the judge speaks kinds). */
export function buildUris(s: Scenario, h: LabHost): { uris: string[]; kinds: Map<string, UriKind> } {
  const hostOf = (form: HostForm) => (form === 'name' ? LAB_NAME : form === 'v4' ? h.v4 : `[${h.v6}]`);
  const kinds = new Map<string, UriKind>();
  for (const form of s.hosts ?? [s.host ?? 'name']) {
    // turns: only by name when several forms are asked for (the certificate names the lab host).
    for (const k of s.uris) if (!(s.hosts && k === 'turns' && form !== 'name')) kinds.set(uriFor(k, hostOf(form)), k);
  }
  return { uris: [...kinds.keys()], kinds };
}

/** The lab's "DNS": only LAB_NAME exists, with the records the scenario publishes. Never asks real DNS. */
export function labLookup(s: Scenario, h: LabHost): Lookup {
  const dns = s.dns ?? { a: true, aaaa: true };
  return async (name, rr) => {
    if (name.toLowerCase() !== LAB_NAME) return { addrs: [], code: 'ENOTFOUND' };
    const addrs = rr === 'A' ? (dns.a ? [h.v4] : []) : dns.aaaa && h.v6 ? [h.v6] : [];
    return addrs.length ? { addrs } : { addrs: [], code: 'ENODATA' };
  };
}

const REST_USER = 'mx-voiptest-lab';

export function credentialsFor(kind: CredentialKind, uris: string[], secret: string, now = Date.now()): CredentialSpec {
  const nowS = Math.floor(now / 1000);
  const signed = (expiresAt: number) => {
    const username = `${expiresAt}:${REST_USER}`;
    return { username, password: restPassword(new Secret(secret), username) };
  };
  switch (kind) {
    case 'secret':
      return { kind: 'secret', uris, secret: new Secret(secret), userId: REST_USER };
    case 'wrong-secret':
      return { kind: 'secret', uris, secret: new Secret(`not-${randomBytes(12).toString('base64url')}`), userId: REST_USER };
    case 'expired':
      return { kind: 'explicit', uris, ...signed(nowS - 900) };
    case 'skewed-behind': // issuer clock 2 h behind, ttl 1 h: expiry 1 h ago
      return { kind: 'shared', credentials: { uris, ...signed(nowS - 7200 + 3600), ttl: 3600, source: { kind: 'shared' } } };
    case 'skewed-ahead': // issuer clock 3 days ahead, ttl 1 h
      return { kind: 'shared', credentials: { uris, ...signed(nowS + 3 * 86400 + 3600), ttl: 3600, source: { kind: 'shared' } } };
  }
}

/** turnserver.conf lines on top of what scripts/lab/coturn.ts writes. */
export function coturnExtra(c: CoturnSetup, h: LabHost): string[] {
  const lines: string[] = [];
  if ((c.base ?? 'hardened') === 'hardened') {
    const deny = [...(c.allowLoopbackPeers ? [] : DENY_LOOPBACK_PEERS), ...DENY_SPECIAL_PEERS, ...(c.allowPrivatePeers ? [] : DENY_PRIVATE_PEERS)];
    lines.push(...deny.map((r) => `denied-peer-ip=${r}`), ...HARDENING);
    if (!c.tcpRelay) lines.push(NO_TCP_RELAY);
  }
  if (c.denySelf) lines.push(`denied-peer-ip=${h.v4}`, ...(h.v6 ? [`denied-peer-ip=${h.v6}`] : []));
  lines.push(...(c.extra ?? []));
  return lines;
}

async function certFor(kind: CoturnSetup['cert'], h: LabHost): Promise<{ cert: CertPair; ca: string[] | undefined }> {
  const sans = [LAB_NAME, h.v4, ...(h.v6 ? [h.v6] : [])];
  switch (kind ?? 'good') {
    case 'good':
      return withCa(await makeSelfSigned({ cn: LAB_NAME, sans }));
    case 'expired':
      return withCa(await makeSelfSigned({ cn: LAB_NAME, sans, expired: true }));
    case 'other-host':
      return withCa(await makeSelfSigned({ cn: OTHER_NAME, sans: [OTHER_NAME] }));
    case 'untrusted':
      return { cert: await makeSelfSigned({ cn: LAB_NAME, sans }), ca: undefined };
  }
}

function withCa(cert: CertPair): { cert: CertPair; ca: string[] } {
  return { cert, ca: [cert.certPem] };
}

function firewallArgs(r: FirewallRule, relay: [number, number] | undefined): string[] {
  const range = (p: 'relay' | number) => {
    if (p !== 'relay') return String(p);
    if (!relay) throw new Error('a relay-range rule needs coturn');
    return `${relay[0]}:${relay[1]}`;
  };
  return [
    '-A',
    r.chain,
    ...(r.proto === 'all' ? [] : ['-p', r.proto]),
    ...(r.dport !== undefined ? ['--dport', range(r.dport)] : []),
    ...(r.sport !== undefined ? ['--sport', range(r.sport)] : []),
    '-j',
    'DROP',
  ];
}

// HTTP on TCP 3478, random bytes on UDP 3478, HTTPS on 443: a port owned by something else.
const NOT_TURN_JS = `
const dgram = require('dgram'), net = require('net'), http = require('http'), https = require('https'), fs = require('fs'), crypto = require('crypto');
const [v4, v6, certFile, keyFile] = process.argv.slice(1);
const answer = (req, res) => { res.writeHead(404, { 'content-type': 'text/html' }); res.end('<html>not here</html>'); };
for (const ip of [v4, v6].filter(Boolean)) {
  http.createServer(answer).listen(3478, ip);
  https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, answer).listen(443, ip);
  const u = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
  u.on('message', (m, r) => u.send(crypto.randomBytes(1 + crypto.randomInt(200)), r.port, r.address));
  u.bind(3478, ip);
}
`;

export interface RunOptions {
  concurrency?: number;
  onDone?: (o: Outcome) => void;
}

/** A scenario's server, running: its URIs, the TURN secret, the CA for turns:, the lab's DNS. */
export interface Served {
  host: LabHost;
  uris: string[];
  kinds: Map<string, UriKind>;
  secret: string;
  ca: string[] | undefined;
  lookup: Lookup;
  stop(): Promise<void>;
}

export interface ScenarioLab {
  lab: NetLab;
  run(s: Scenario): Promise<Outcome>;
  /** Start the scenario's server and network and leave them up (until Served.stop). */
  serve(s: Scenario): Promise<Served>;
  /** Start every scenario (at most `concurrency` at once); one promise per scenario name. run() never rejects. */
  start(opts?: RunOptions): Map<string, Promise<Outcome>>;
  runAll(opts?: RunOptions): Promise<Outcome[]>;
  close(): Promise<void>;
}

/** One lab host per scenario (namespaces are cheap; rules and ports never collide). */
export async function openScenarioLab(scenarios: readonly Scenario[]): Promise<ScenarioLab> {
  const names = new Set(scenarios.map((s) => s.name));
  if (names.size !== scenarios.length) throw new Error('duplicate scenario names');
  const hostOf = new Map(scenarios.map((s, i) => [s.name, `s${i}`]));
  // The lab's child processes are unref'd: while we wait for one to exit,
  // nothing else may hold the event loop, and node would quit mid-teardown.
  const keepAlive = setInterval(() => undefined, 1000);
  const lab = await createLab({ hosts: [...hostOf.values()] }).catch((e: unknown) => {
    clearInterval(keepAlive);
    throw e;
  });
  const baseDir = await mkdtemp(join(tmpdir(), 'mxv-scenarios-'));

  /** The scenario's server and network, up until stop(): what run() tests, and what the demo serves to its bot. */
  const serve = async (s: Scenario): Promise<Served> => {
    const hostName = hostOf.get(s.name);
    if (!hostName) throw new Error(`scenario ${s.name} is not in this lab`);
    const h = lab.host(hostName);
    const down = new Teardown();
    try {
      let secret = randomBytes(18).toString('base64url');
      let ca: string[] | undefined;
      let relay: [number, number] | undefined;
      if (s.server.kind === 'coturn') {
        const c = s.server.coturn ?? {};
        const tls = await certFor(c.cert, h);
        ca = tls.ca;
        const hardened = (c.base ?? 'hardened') === 'hardened';
        const opts: CoturnOptions = {
          secret,
          realm: LAB_NAME,
          listenIps: c.listen === 'v4' || !h.v6 ? [h.v4] : [h.v4, h.v6],
          port: TURN_PORT,
          tlsPort: TLS_PORT,
          tlsCert: tls.cert,
          noUdp: c.noUdp,
          noAuth: c.noAuth,
          allowLoopbackPeers: c.allowLoopbackPeers ?? false,
          noRfc5780: hardened,
          baseDir,
          extra: coturnExtra(c, h),
        };
        if (c.relay === 'v4-only') opts.relayIps = [h.v4];
        if (c.relay === 'private') {
          // A private relay address inside the namespace; the root route keeps
          // anything sent to it inside the lab (nothing should be: ALLOC-1 gates).
          const net = `10.${randomInt(16, 250)}.${randomInt(0, 255)}`;
          await lab.addAddress(hostName, `${net}.11/24`);
          await ip(['route', 'add', `${net}.0/24`, 'dev', lab.root!.dev]);
          down.push(() => ip(['route', 'del', `${net}.0/24`, 'dev', lab.root!.dev]));
          opts.relayIps = [`${net}.11`];
        }
        if (c.externalIp === 'unassigned') opts.externalIp = h.v4.replace(/\.\d+$/, '.250');
        const coturn: CoturnLab = await lab.startCoturn(hostName, opts);
        down.push(() => coturn.stop());
        secret = coturn.secret ?? secret;
        relay = coturn.relayPorts;
      } else if (s.server.kind === 'not-turn') {
        const cert = await makeSelfSigned({ cn: LAB_NAME, sans: [LAB_NAME, h.v4] });
        ca = [cert.certPem];
        const dir = await mkdtemp(join(baseDir, `${s.name}-`));
        await writeFile(join(dir, 'cert.pem'), cert.certPem);
        await writeFile(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
        const logFile = join(dir, 'service.log');
        const p: Guarded = lab.spawn(hostName, [process.execPath, '-e', NOT_TURN_JS, h.v4, h.v6 ?? '', join(dir, 'cert.pem'), join(dir, 'key.pem')], { logFile });
        down.push(() => p.stop(1000));
        let up = false;
        for (let i = 0; i < 50 && !up; i++) {
          up = (await tcpConnects(h.v4, TURN_PORT, 200)) && (await tcpConnects(h.v4, TLS_PORT, 200));
          if (!up) await sleep(100);
        }
        if (!up) throw new Error(`the non-TURN service did not come up: ${(await readFile(logFile, 'utf8').catch(() => '')).slice(-600)}`);
      }
      for (const r of s.firewall ?? []) await lab.iptables(hostName, firewallArgs(r, relay), r.family ?? 'both');
      if (s.firewall?.length) down.push(() => lab.flush(hostName));
      const { uris, kinds } = buildUris(s, h);
      return { host: h, uris, kinds, secret, ca, lookup: labLookup(s, h), stop: () => down.run() };
    } catch (e) {
      await down.run();
      throw e;
    }
  };

  const run = async (s: Scenario): Promise<Outcome> => {
    const t0 = performance.now();
    let setupMs = 0;
    let served: Served | undefined;
    try {
      served = await serve(s);
      setupMs = performance.now() - t0;
      const { uris, kinds, secret, ca } = served;
      const options: CheckOptions = {
        credentials: credentialsFor(s.credentials, uris, secret),
        family: s.family ?? 'both',
        allowPrivate: true,
        assumePublic: LAB_PUBLIC,
        ca,
        quality: s.quality ?? 'off',
        timeoutMs: ENGINE_TIMEOUT_MS,
        e2e: s.e2e ?? false,
        lookup: served.lookup,
        ...(s.expectedRealm ? { expectedRealm: s.expectedRealm } : {}),
      };
      const t1 = performance.now();
      const report = await runCheck(options);
      const wallMs = performance.now() - t1;
      return { scenario: s, wallMs, setupMs, report, judgement: judge(s, report, kinds, PENDING_CHECKS, wallMs) };
    } catch (e) {
      return { scenario: s, wallMs: 0, setupMs: setupMs || performance.now() - t0, error: (e as Error).message.slice(0, 2000) };
    } finally {
      await served?.stop();
    }
  };

  const start = (opts: RunOptions = {}): Map<string, Promise<Outcome>> => {
    // A pool of `concurrency` workers; each scenario's outcome is its own promise.
    const waiting = new Map<string, { promise: Promise<Outcome>; resolve: (o: Outcome) => void }>();
    for (const s of scenarios) {
      let resolve!: (o: Outcome) => void;
      const promise = new Promise<Outcome>((r) => (resolve = r));
      waiting.set(s.name, { promise, resolve });
    }
    const one = async (s: Scenario) => {
      const o = await run(s).catch((e: unknown): Outcome => ({ scenario: s, wallMs: 0, setupMs: 0, error: (e as Error).message }));
      opts.onDone?.(o);
      waiting.get(s.name)!.resolve(o);
    };
    // Exclusive scenarios alone first, then the rest `concurrency` at a time.
    const queue = scenarios.filter((s) => !s.exclusive);
    const worker = async () => {
      for (let s = queue.shift(); s; s = queue.shift()) await one(s);
    };
    void (async () => {
      for (const s of scenarios.filter((x) => x.exclusive)) await one(s);
      for (let i = 0; i < Math.max(1, opts.concurrency ?? 3); i++) void worker();
    })();
    return new Map([...waiting].map(([name, w]) => [name, w.promise]));
  };

  return {
    lab,
    run,
    serve,
    start,
    async runAll(opts = {}) {
      const started = start(opts);
      return Promise.all(scenarios.map((s) => started.get(s.name)!));
    },
    async close() {
      try {
        await lab.destroy();
        await rm(baseDir, { recursive: true, force: true });
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}
