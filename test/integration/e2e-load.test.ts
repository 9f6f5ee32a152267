// E2E-1 must not accuse a healthy TURN server because this machine is busy.
// Two wire conditions that load produces, made deterministic by a small UDP
// proxy in front of a real coturn on loopback, plus a short run under real load:
//  - werift (RTO 50 ms) retransmits its unauthenticated Allocate when the 401
//    is late; every copy is answered with 401, and a stale copy must not be
//    read as the server rejecting our authenticated Allocate;
//  - a local UDP port that still has an allocation on the server (the kernel
//    reuses a just-closed port; coturn frees deleted allocations ~1 s late)
//    gets 437, which a client should retry from another port (RFC 8656).
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { mintRestCredentials } from '../../src/tester/credentials/rest';
import { runE2E, type E2EInput } from '../../src/tester/probes/e2e';
import { Secret } from '../../src/tester/secret';
import type { IceUri } from '../../src/tester/types';

jest.setTimeout(60000);

let lab: CoturnLab;
let secret: Secret;
const timings: Record<string, number> = {};

beforeAll(async () => {
  lab = await startCoturn({});
  secret = new Secret(lab.secret!);
});

afterAll(async () => {
  await lab?.stop();
  // eslint-disable-next-line no-console
  console.log('E2E-1 under load (ms):', JSON.stringify(timings));
});

interface ProxyOptions {
  /** Answer every 401 to an Allocate twice more: at once and 30 ms later (what retransmissions produce). */
  duplicate401?: boolean;
  /** The first two client sockets share one upstream socket: the second one's Allocate meets an allocation on its 5-tuple. */
  shareFirstTwo?: boolean;
}

interface Proxy {
  port: number;
  close(): void;
}

const ALLOCATE_ERROR = 0x0113;

/** UDP proxy 127.0.0.1:port -> coturn, one upstream socket per client (unless shareFirstTwo). */
async function startProxy(target: number, opts: ProxyOptions): Promise<Proxy> {
  const front = createSocket('udp4');
  const ups = new Map<string, Socket>();
  const all: Socket[] = [front];
  const timers: NodeJS.Timeout[] = [];
  let shared: { sock: Socket; owners: RemoteInfo[] } | null = null;
  // Which client sent a transaction (the shared upstream socket serves two).
  const txOwner = new Map<string, RemoteInfo>();

  const upstreamFor = async (client: RemoteInfo): Promise<Socket> => {
    const key = `${client.address}:${client.port}`;
    const have = ups.get(key);
    if (have) return have;
    if (opts.shareFirstTwo && shared && shared.owners.length < 2) {
      shared.owners.push(client);
      ups.set(key, shared.sock);
      return shared.sock;
    }
    const sock = createSocket('udp4');
    all.push(sock);
    ups.set(key, sock);
    const owners = [client];
    if (opts.shareFirstTwo && !shared) shared = { sock, owners };
    sock.on('message', (msg) => {
      const isStun = msg.length >= 20 && (msg[0] & 0xc0) === 0;
      const to = (isStun && txOwner.get(msg.subarray(8, 20).toString('hex'))) || owners[0];
      front.send(msg, to.port, to.address);
      if (opts.duplicate401 && isStun && msg.readUInt16BE(0) === ALLOCATE_ERROR && msg.includes(Buffer.from([0x00, 0x00, 0x04, 0x01]))) {
        front.send(msg, to.port, to.address);
        timers.push(setTimeout(() => front.send(msg, to.port, to.address), 30));
      }
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    return sock;
  };

  front.on('message', (msg, client) => {
    if (msg.length >= 20 && (msg[0] & 0xc0) === 0) txOwner.set(msg.subarray(8, 20).toString('hex'), client);
    void upstreamFor(client).then((up) => up.send(msg, target, '127.0.0.1'));
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  return {
    port: front.address().port,
    close: () => {
      for (const t of timers) clearTimeout(t);
      for (const s of all) s.close();
    },
  };
}

function input(port: number): E2EInput {
  const creds = mintRestCredentials(secret, 'e2e-load');
  const uri: IceUri = { raw: `turn:127.0.0.1:${port}?transport=udp`, scheme: 'turn', host: '127.0.0.1', port, transport: 'udp', transportExplicit: true, ipLiteral: 4 };
  return { uri, family: 'ipv4', address: '127.0.0.1', username: creds.username, password: creds.password, timeoutMs: 8000 };
}

async function timed(name: string, p: ReturnType<typeof runE2E>) {
  const t0 = Date.now();
  const f = await p;
  timings[name] = Date.now() - t0;
  return f;
}

test('stale 401s to a retransmitted unauthenticated Allocate are not a credential failure', async () => {
  const proxy = await startProxy(lab.port, { duplicate401: true });
  try {
    const f = await timed('duplicate-401', runE2E(input(proxy.port)));
    expect(f).toMatchObject({ id: 'E2E-1', status: 'pass', evidence: { engine: 'werift', turnTransport: 'udp' } });
  } finally {
    proxy.close();
  }
});

test('437 (an allocation already on this 5-tuple) is retried from a fresh local port', async () => {
  const proxy = await startProxy(lab.port, { shareFirstTwo: true });
  try {
    const f = await timed('mismatch-437', runE2E(input(proxy.port)));
    expect(f).toMatchObject({ status: 'pass', evidence: { turnTransport: 'udp', mismatchRetries: 1 } });
  } finally {
    proxy.close();
  }
});

test('a wrong password is still a fast 401 when 401s come in duplicate', async () => {
  const proxy = await startProxy(lab.port, { duplicate401: true });
  try {
    const f = await timed('duplicate-401-wrong-password', runE2E({ ...input(proxy.port), password: new Secret('not-the-password') }));
    expect(f).toMatchObject({ status: 'fail', cause: 'no-relay-candidate', evidence: { allocation: { kind: 'rejected', errorCode: 401 } } });
    expect(timings['duplicate-401-wrong-password']).toBeLessThan(3000);
  } finally {
    proxy.close();
  }
});

test('under CPU load and event-loop stalls, healthy UDP and TCP targets pass', async () => {
  // One busy core outside, 20-100 ms stalls inside (other probes, JSON, GC), two E2E runs at once.
  const busy: ChildProcess = spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end) {}'], { stdio: 'ignore' });
  const stall = setInterval(() => {
    const until = Date.now() + 20 + Math.random() * 80;
    while (Date.now() < until) {
      // block the event loop
    }
  }, 70);
  try {
    const statuses: string[] = [];
    for (let round = 0; round < 3; round++) {
      const runs = await Promise.all(
        (['udp', 'tcp'] as const).map((transport) => {
          const i = input(lab.port);
          const uri = { ...i.uri, transport, raw: `turn:127.0.0.1:${lab.port}?transport=${transport}` };
          return timed(`load-${transport}-${round}`, runE2E({ ...i, uri }));
        }),
      );
      statuses.push(...runs.map((f) => `${f.status}${f.cause ? `:${f.cause}` : ''}`));
    }
    expect(statuses).toEqual(Array(6).fill('pass'));
  } finally {
    clearInterval(stall);
    if (busy.pid) process.kill(busy.pid, 'SIGKILL');
  }
});
