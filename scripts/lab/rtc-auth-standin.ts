// A lab STAND-IN for the MatrixRTC authorization service (element-hq/lk-jwt-service),
// which no registry reachable here serves. Lab only: never shipped in the product.
//
// It speaks lk-jwt-service's standalone protocol as its repository defines it
// (handler.go, requests.go, helper.go, config.go):
//   GET|HEAD /healthz -> 200 (other methods 405)
//   POST /get_token {room_id, slot_id, openid_token{access_token, token_type,
//     matrix_server_name, expires_in}, member{id, claimed_user_id, claimed_device_id}
//     [, delay_id, delay_timeout, delay_cs_api_url: all or none]} -> {url, jwt}
//   POST /sfu/get {room, openid_token, device_id} (the older endpoint) -> {url, jwt}
//   unknown or mistyped fields: 400 M_NOT_JSON "Error reading request"; missing
//   fields: 400 M_BAD_JSON; OpenID token not verified (federation
//   /openid/userinfo) or claimed_user_id not its subject: 401 M_UNAUTHORIZED;
//   LiveKit room creation failed: 500 M_UNKNOWN "Unable to create room on SFU";
//   CORS `*` on the POST endpoints, OPTIONS answered 200.
// Rooms are created (livekit-server-sdk CreateRoom, empty 300 s, departure 20 s)
// only for users of LIVEKIT_FULL_ACCESS_HOMESERVERS ('*' alone = everyone);
// the JWT grants roomJoin, canPublish, canSubscribe (no roomCreate), 1 h.
// Identities and room names are lk-jwt-service's: unpadded base64 of
// SHA-256 over the JSON array of their parts.
//
// Configured like lk-jwt-service, by environment: LIVEKIT_URL, LIVEKIT_KEY,
// LIVEKIT_SECRET, LIVEKIT_FULL_ACCESS_HOMESERVERS, LIVEKIT_JWT_BIND. Two lab
// switches stand in for what the real service does differently:
//   MXV_STANDIN_FEDERATION  JSON {server name: federation base URL}; the real
//     service finds the federation API by .well-known/matrix/server, SRV, 8448.
//   MXV_STANDIN_LEGACY=1    behave like an older release: no /get_token (404).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { findFreeTcpPort } from './ports';
import { sleep, spawnGuarded, type Guarded } from './proc';

export interface StandinConfig {
  livekitUrl: string;
  key: string;
  secret: string;
  fullAccessHomeservers: string[];
  federation: Record<string, string>;
  legacy: boolean;
}

interface MatrixError {
  status: number;
  errcode: string;
  error: string;
}

const isMatrixError = (e: unknown): e is MatrixError => typeof e === 'object' && e !== null && 'errcode' in e && 'status' in e;

/** The shape of a Go struct decoded with DisallowUnknownFields: field name -> kind (or nested shape). */
type Shape = { [k: string]: 'string' | 'int' | Shape };
const OPENID: Shape = { access_token: 'string', token_type: 'string', matrix_server_name: 'string', expires_in: 'int' };
const GET_TOKEN: Shape = {
  room_id: 'string',
  slot_id: 'string',
  openid_token: OPENID,
  member: { id: 'string', claimed_user_id: 'string', claimed_device_id: 'string' },
  delay_id: 'string',
  delay_timeout: 'int',
  delay_cs_api_url: 'string',
};
const SFU_GET: Shape = { room: 'string', openid_token: OPENID, device_id: 'string', delay_id: 'string', delay_timeout: 'int', delay_cs_api_url: 'string' };

/** Go encoding/json semantics we rely on: unknown field or wrong type = decode error; absent = zero value. */
function decode(v: unknown, shape: Shape): Record<string, any> {
  if (v === null) return decode({}, shape);
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
  const out: Record<string, any> = {};
  for (const [k, kind] of Object.entries(shape)) out[k] = typeof kind === 'object' ? decode({}, kind) : kind === 'int' ? 0 : '';
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const kind = shape[k];
    if (kind === undefined) throw new Error(`unknown field "${k}"`);
    if (val === null) continue;
    if (typeof kind === 'object') out[k] = decode(val, kind);
    else if (kind === 'string' && typeof val === 'string') out[k] = val;
    else if (kind === 'int' && typeof val === 'number' && Number.isInteger(val)) out[k] = val;
    else throw new Error(`field "${k}" has the wrong type`);
  }
  return out;
}

const bad = (error: string): MatrixError => ({ status: 400, errcode: 'M_BAD_JSON', error });
const UNAUTHORIZED: MatrixError = { status: 401, errcode: 'M_UNAUTHORIZED', error: 'The request could not be authorised.' };

function delayedParams(r: Record<string, any>): void {
  const all = r.delay_id !== '' && r.delay_timeout > 0 && r.delay_cs_api_url !== '';
  const any = r.delay_id !== '' || r.delay_timeout > 0 || r.delay_cs_api_url !== '';
  if (any && !all) throw bad('The request body is missing `delay_id`, `delay_timeout` or `delay_cs_api_url`');
}

function validateGetToken(r: Record<string, any>): void {
  if (r.room_id === '' || r.slot_id === '') throw bad('The request body is missing `room_id` or `slot_id`');
  if (r.member.id === '' || r.member.claimed_user_id === '' || r.member.claimed_device_id === '') {
    throw bad('The request body `member` is missing a `id`, `claimed_user_id` or `claimed_device_id`');
  }
  if (r.openid_token.access_token === '' || r.openid_token.matrix_server_name === '') {
    throw bad('The request body `openid_token` is missing a `access_token` or `matrix_server_name`');
  }
  delayedParams(r);
}

function validateSfuGet(r: Record<string, any>): void {
  if (r.room === '') throw bad('Missing room parameter');
  if (r.openid_token.access_token === '' || r.openid_token.matrix_server_name === '') throw bad('Missing OpenID token parameters');
  delayedParams(r);
}

/** lk-jwt-service's LiveKitRoomAliasFor / LiveKitIdentityFor. */
export function lkHash(parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64').replace(/=+$/, '');
}

export function createStandin(cfg: StandinConfig): Server {
  const apiUrl = cfg.livekitUrl.replace(/^ws(s?):/, 'http$1:');
  const rooms = new RoomServiceClient(apiUrl, cfg.key, cfg.secret);
  const fullAccess = (server: string) =>
    (cfg.fullAccessHomeservers.length === 1 && cfg.fullAccessHomeservers[0] === '*') || cfg.fullAccessHomeservers.includes(server);

  async function verifyOpenId(token: Record<string, any>, claimedUserId: string): Promise<string> {
    const base = cfg.federation[token.matrix_server_name];
    if (!base) throw UNAUTHORIZED;
    let sub: unknown;
    try {
      const r = await fetch(`${base}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(token.access_token)}`, { signal: AbortSignal.timeout(5000) });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      sub = ((await r.json()) as { sub?: unknown }).sub;
    } catch {
      throw UNAUTHORIZED;
    }
    if (typeof sub !== 'string' || sub === '') throw UNAUTHORIZED;
    if (claimedUserId !== '' && claimedUserId !== sub) throw UNAUTHORIZED;
    return sub;
  }

  async function grant(matrixId: string, serverName: string, room: string, identity: string, delayId: string): Promise<{ url: string; jwt: string }> {
    const full = fullAccess(serverName);
    if (delayId !== '' && !full) throw bad('Delegation of delayed events is only supported for full access users');
    const at = new AccessToken(cfg.key, cfg.secret, { identity, ttl: 3600 });
    at.addGrant({ roomJoin: true, roomCreate: false, canPublish: true, canSubscribe: true, room });
    const jwt = await at.toJwt();
    if (full) {
      try {
        await rooms.createRoom({ name: room, emptyTimeout: 300, departureTimeout: 20, maxParticipants: 0 });
      } catch {
        throw { status: 500, errcode: 'M_UNKNOWN', error: 'Unable to create room on SFU' } satisfies MatrixError;
      }
    }
    void matrixId;
    return { url: cfg.livekitUrl, jwt };
  }

  const handlers: Record<string, (body: unknown) => Promise<{ url: string; jwt: string }>> = {
    '/get_token': async (body) => {
      const r = decode(body, GET_TOKEN);
      validateGetToken(r);
      const sub = await verifyOpenId(r.openid_token, r.member.claimed_user_id);
      return grant(sub, r.openid_token.matrix_server_name, lkHash([r.room_id, r.slot_id]), lkHash([sub, r.member.claimed_device_id, r.member.id]), r.delay_id);
    },
    '/sfu/get': async (body) => {
      const r = decode(body, SFU_GET);
      validateSfuGet(r);
      const sub = await verifyOpenId(r.openid_token, '');
      return grant(sub, r.openid_token.matrix_server_name, lkHash([r.room, 'm.call#ROOM']), `${sub}:${r.device_id}`, r.delay_id);
    },
  };
  if (cfg.legacy) delete handlers['/get_token'];

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.statusCode = status;
    res.end(body === undefined ? undefined : `${JSON.stringify(body)}\n`);
  };

  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(res, req.method === 'GET' || req.method === 'HEAD' ? 200 : 405);
    const handler = handlers[path];
    if (!handler) return send(res, 404);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Methods', 'POST');
    res.setHeader('Access-Control-Allow-Headers', 'Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token');
    if (req.method === 'OPTIONS') return send(res, 200);
    if (req.method !== 'POST') return send(res, 405);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, { errcode: 'M_NOT_JSON', error: 'Error reading request' });
      }
      handler(body).then(
        (ok) => send(res, 200, ok),
        (e: unknown) => {
          if (isMatrixError(e)) return send(res, e.status, { errcode: e.errcode, error: e.error });
          // A decode error (unknown field, wrong type) is M_NOT_JSON, as lk-jwt-service's decoder answers.
          send(res, 400, { errcode: 'M_NOT_JSON', error: 'Error reading request' });
        },
      );
    });
  });
}

/** Read lk-jwt-service's environment (and the two lab switches); throws on what it would refuse. */
export function configFromEnv(env: NodeJS.ProcessEnv): StandinConfig & { bind: string } {
  const key = (env.LIVEKIT_KEY ?? '').trim();
  const secret = (env.LIVEKIT_SECRET ?? '').trim();
  const livekitUrl = env.LIVEKIT_URL ?? '';
  if (!key || !secret || !livekitUrl) throw new Error('LIVEKIT_KEY* / LIVEKIT_SECRET* and LIVEKIT_URL must be set');
  const fa = env.LIVEKIT_FULL_ACCESS_HOMESERVERS ?? '';
  if (!fa) throw new Error('LIVEKIT_FULL_ACCESS_HOMESERVERS environment variable must be set');
  return {
    key,
    secret,
    livekitUrl,
    fullAccessHomeservers: fa.replace(/,/g, ' ').split(/\s+/).filter(Boolean),
    federation: JSON.parse(env.MXV_STANDIN_FEDERATION ?? '{}') as Record<string, string>,
    legacy: env.MXV_STANDIN_LEGACY === '1',
    bind: env.LIVEKIT_JWT_BIND ?? ':8080',
  };
}

export interface StandinOptions {
  livekitUrl: string;
  key: string;
  secret: string;
  /** LIVEKIT_FULL_ACCESS_HOMESERVERS; default ['*']. */
  fullAccessHomeservers?: string[];
  /** Server name -> federation base URL (lab discovery). */
  federation: Record<string, string>;
  /** An older release without /get_token. */
  legacy?: boolean;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
}

export interface StandinLab {
  /** http://127.0.0.1:PORT: the `livekit_service_url` to advertise. */
  url: string;
  port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Start the stand-in as its own process (stopped by PID like every lab server). */
export async function startRtcAuthStandin(opts: StandinOptions): Promise<StandinLab> {
  const port = opts.port ?? (await findFreeTcpPort('127.0.0.1'));
  const tsx = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
  const proc: Guarded = spawnGuarded(tsx, [join(__dirname, 'rtc-auth-standin-main.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LIVEKIT_URL: opts.livekitUrl,
      LIVEKIT_KEY: opts.key,
      LIVEKIT_SECRET: opts.secret,
      LIVEKIT_FULL_ACCESS_HOMESERVERS: (opts.fullAccessHomeservers ?? ['*']).join(','),
      LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
      MXV_STANDIN_FEDERATION: JSON.stringify(opts.federation),
      MXV_STANDIN_LEGACY: opts.legacy ? '1' : '0',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!proc.alive) throw new Error('rtc-auth stand-in exited during start');
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      await proc.stop(1000);
      throw new Error(`rtc-auth stand-in not answering ${url}/healthz`);
    }
    await sleep(100);
  }
  return {
    url,
    port,
    get pid() {
      return proc.pid;
    },
    stop: () => proc.stop(2000),
  };
}
