// The bot's configuration, described once: every key with its type, default,
// documentation and env override. The typed config, the validator, the env
// mapping and config/config.sample.yaml are all derived from this table.
import { DEFAULT_CHECK_OPTIONS } from '../tester/options';
import type { Secret } from '../tester/secret';

interface Base {
  doc: string;
  /** Env var that overrides the key; `<ENV>_FILE` reads the value from a file. */
  env?: string;
  /** Shown (commented out) in the sample when the default is null. */
  example?: string;
  /** An empty env value is a value (e.g. "" disables a listener), not "unset". */
  emptyEnv?: boolean;
}
export type Field =
  | (Base & { t: 'string'; default: string; pattern?: RegExp; patternHint?: string })
  | (Base & { t: 'optString'; default: null; pattern?: RegExp; patternHint?: string })
  | (Base & { t: 'secret'; default: null })
  | (Base & { t: 'int'; default: number; min: number; max: number })
  | (Base & { t: 'bool'; default: boolean })
  | (Base & { t: 'enum'; default: string; values: readonly string[] })
  | (Base & { t: 'list'; default: readonly string[]; item?: RegExp; itemHint?: string })
  | (Base & { t: 'cron'; default: string })
  | (Base & { t: 'timezone'; default: string })
  | (Base & { t: 'url'; default: string })
  | (Base & { t: 'optUrl'; default: null });

export interface Section {
  [key: string]: Field | Section;
}

export function isField(x: Field | Section): x is Field {
  return typeof (x as Field).t === 'string' && typeof (x as Field).doc === 'string';
}

const MXID = /^@[^:\s]+:[^\s]+$/;
const ROOM = /^(![^\s]+|#[^:\s]+:[^\s]+)$/;
const LISTEN = /^(\[[0-9a-fA-F:]+\]|[0-9.]+|[A-Za-z0-9.\-]+):\d{1,5}$/;
const OPT_LISTEN = /^$|^(\[[0-9a-fA-F:]+\]|[0-9.]+|[A-Za-z0-9.\-]+):\d{1,5}$/;
const SERVER = /^[A-Za-z0-9.\-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/;

export const SCHEMA = {
  homeserver: {
    url: { t: 'url', default: 'http://127.0.0.1:8008', env: 'MXV_HOMESERVER_URL', doc: "Client-server API base URL of the bot's homeserver." },
    accessToken: {
      t: 'secret', default: null, env: 'MXV_ACCESS_TOKEN',
      doc: 'Access token of the bot account. Prefer the env var (or MXV_ACCESS_TOKEN_FILE) over writing it here.',
    },
    userId: {
      t: 'optString', default: null, env: 'MXV_USER_ID', pattern: MXID, patternHint: 'a Matrix user id like @voiptest:example.org',
      example: '"@voiptest:example.org"', doc: 'Bot user id for password login (when no access token is given).',
    },
    password: { t: 'secret', default: null, env: 'MXV_PASSWORD', doc: 'Password for password login. Use MXV_PASSWORD or MXV_PASSWORD_FILE.' },
    deviceId: {
      t: 'optString', default: null, env: 'MXV_DEVICE_ID',
      doc: 'Device id to log in with; when unset, the first login creates one and it is kept in dataDir so restarts reuse it.',
    },
  },
  dataDir: { t: 'string', default: './data', env: 'MXV_DATA_DIR', doc: 'Where the sync state, device id and the SQLite history live.' },
  encryption: {
    enabled: {
      t: 'bool', default: true, env: 'MXV_ENCRYPTION',
      doc: 'Take part in end-to-end encrypted rooms (keys kept in dataDir/crypto). When off, or when encryption cannot start, the bot says so in encrypted rooms and opens an unencrypted DM.',
    },
  },
  commandPrefix: {
    t: 'string', default: '!voiptest', pattern: /^\S+$/, patternHint: 'one word without spaces',
    doc: 'Command prefix. Mentioning the bot ("@bot:server voiptest ...") works as well.',
  },
  admins: { t: 'list', default: [], item: MXID, itemHint: 'a Matrix user id', doc: 'Users who may change the schedule; daily-report regressions mention them.' },
  adminRooms: { t: 'list', default: [], item: ROOM, itemHint: 'a room id (!abc:server) or alias (#room:server)', doc: 'Rooms that receive the daily report (unless schedule.rooms is set).' },
  invites: {
    users: { t: 'list', default: [], item: MXID, itemHint: 'a Matrix user id', doc: 'Users whose invites the bot accepts.' },
    servers: { t: 'list', default: [], item: SERVER, itemHint: 'a server name like example.org', doc: 'Servers whose users may invite the bot.' },
    everyone: { t: 'bool', default: false, doc: 'Accept invites from anyone. Admins are always allowed.' },
  },
  limits: {
    userCooldownSeconds: { t: 'int', default: 60, min: 0, max: 86400, doc: 'Minimum time between two runs requested by the same user.' },
    roomCooldownSeconds: { t: 'int', default: 20, min: 0, max: 86400, doc: 'Minimum time between two runs in the same room.' },
    maxConcurrentRuns: { t: 'int', default: 2, min: 1, max: 32, doc: 'Runs at once; more requests get "busy, try again" instead of a queue.' },
    jsonCooldownSeconds: { t: 'int', default: 30, min: 0, max: 86400, doc: 'Minimum time between two "json" uploads for the same user (the file of a run is uploaded once and then re-sent).' },
  },
  schedule: {
    enabled: { t: 'bool', default: true, doc: 'Post a scheduled report (needs rooms: schedule.rooms or adminRooms).' },
    cron: { t: 'cron', default: '0 8 * * *', env: 'MXV_SCHEDULE_CRON', doc: 'When to post it (cron, 5 or 6 fields). Admins can change it with "schedule set".' },
    timezone: { t: 'timezone', default: 'UTC', doc: 'IANA time zone of the cron expression.' },
    rooms: { t: 'list', default: [], item: ROOM, itemHint: 'a room id or alias', doc: 'Rooms for the scheduled report; empty means adminRooms.' },
    minIntervalSeconds: { t: 'int', default: 3600, min: 1, max: 604800, doc: 'The schedule may not run more often than this (a cron that fires sooner is refused).' },
  },
  turn: {
    sharedSecret: {
      t: 'secret', default: null, env: 'MXV_TURN_SHARED_SECRET',
      doc: 'TURN REST shared secret (coturn static-auth-secret). With it the bot mints its own credentials. Use MXV_TURN_SHARED_SECRET(_FILE).',
    },
    uris: { t: 'list', default: [], item: /^(stun|turns?):\S+$/, itemHint: 'a stun:/turn:/turns: URI', example: '["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"]', doc: 'URIs to test with minted credentials (needed with sharedSecret).' },
    ttl: { t: 'int', default: 3600, min: 60, max: 604800, doc: 'Lifetime in seconds of minted credentials.' },
  },
  xmpp: {
    accounts: {
      t: 'list', default: [], item: /^[^\s@/]{1,256}@[A-Za-z0-9.-]{1,253}( (xmpps:\/\/)?[A-Za-z0-9.:[\]-]{1,260})?$/, itemHint: 'a JID, optionally followed by a server (host:port, or xmpps://host:port for direct TLS)',
      example: '["voiptest@example.org"]',
      doc: 'XMPP accounts whose XEP-0215 STUN/TURN the scheduled report tests, each in its own section; admins run them with "xmpp". Their passwords go in xmpp.passwords.',
    },
    passwords: {
      t: 'secret', default: null, env: 'MXV_XMPP_PASSWORDS',
      doc: 'One line per account of xmpp.accounts: "JID PASSWORD". Use MXV_XMPP_PASSWORDS_FILE (a file readable by the bot only), not this file.',
    },
  },
  engine: {
    family: { t: 'enum', default: DEFAULT_CHECK_OPTIONS.family, values: ['ipv4', 'ipv6', 'both'], doc: 'Address families to test.' },
    allowPrivate: { t: 'bool', default: DEFAULT_CHECK_OPTIONS.allowPrivate, doc: 'Lab use only: permit loopback/private targets (refused otherwise).' },
    assumePublic: { t: 'list', default: [], item: /^[0-9a-fA-F:.]+\/\d{1,3}$/, itemHint: 'a CIDR like 10.0.0.0/8', doc: 'Lab use: CIDRs whose relayed addresses count as public.' },
    hosts: { t: 'list', default: [], item: /^[A-Za-z0-9.-]{1,253}=[0-9a-fA-F:.]{2,45}$/, itemHint: 'NAME=IP like turn.lab.test=198.18.0.2', doc: 'Lab use: answer these TURN host names (NAME=IP, one line per address) without DNS; other names use DNS.' },
    ca: { t: 'list', default: [], doc: 'Extra trusted CA certificate files (PEM) for turns:.' },
    quality: { t: 'enum', default: DEFAULT_CHECK_OPTIONS.quality, values: ['off', 'audio', 'video'], doc: 'Path-quality measurement profile.' },
    timeoutMs: { t: 'int', default: DEFAULT_CHECK_OPTIONS.timeoutMs, min: 1000, max: 600000, doc: 'Overall deadline of one run.' },
    e2e: { t: 'bool', default: DEFAULT_CHECK_OPTIONS.e2e, doc: 'Run the in-process WebRTC check through each relay.' },
    rtcFederationUrl: {
      t: 'optUrl', default: null, example: 'http://127.0.0.1:8448',
      doc: 'Lab use: federation base URL for the MatrixRTC OpenID check (RTC-4) instead of .well-known/matrix/server discovery (the CLI\'s --rtc-federation-url).',
    },
  },
  web: {
    enabled: {
      t: 'bool', default: false,
      doc: 'Serve the browser helper: "!voiptest browser" (and "!voiptest" from users of other homeservers when no TURN secret applies) gets a one-time link in a DM; the page logs in to the user\'s own homeserver, shares its TURN credentials with consent and tests from the user\'s network.',
    },
    listen: { t: 'string', default: '127.0.0.1:8080', pattern: LISTEN, patternHint: 'host:port', doc: 'Address the helper listens on (port 0: any free port, tests).' },
    publicBaseUrl: {
      t: 'optUrl', default: null, example: 'https://voiptest.example.org',
      doc: 'Public URL of the helper (behind your reverse proxy); links point here. Required with web.enabled unless web.listen is a loopback address (then links use the bound address).',
    },
    linkTtl: { t: 'int', default: 900, min: 60, max: 86400, doc: 'Seconds a link stays valid; it works once, for the user who asked.' },
    maxSessions: { t: 'int', default: 4, min: 1, max: 32, doc: 'Browser tests at once; more get "busy, try again" in the page.' },
    connectSrc: {
      t: 'list', default: [], item: /^\S+$/, itemHint: 'a CSP source like http://127.0.0.1:*',
      doc: 'Lab use: origins the page may reach besides https: (e.g. "http://127.0.0.1:*" for a plain-HTTP lab homeserver).',
    },
  },
  userTargets: {
    ports: {
      t: 'list', default: ['3478', '3479', '5349', '5350', '443', '80'], item: /^\d{1,5}$/, itemHint: 'a port number',
      doc: 'Ports a user-shared TURN URI (browser helper) may name; the ports the bot\'s own homeserver and turn.uris advertise are allowed too. Other URIs are not tested.',
    },
    maxPerRun: { t: 'int', default: 12, min: 1, max: 64, doc: 'Most distinct address:port targets one run on user-shared URIs may reach; more refuse the run.' },
    maxPerUserPerDay: { t: 'int', default: 36, min: 1, max: 10000, doc: 'Most distinct address:port targets one user may have tested per UTC day.' },
    sameDomain: { t: 'bool', default: false, doc: 'User-shared URIs must name hosts within the requester\'s own server name (no IP literals).' },
    allowRanges: {
      t: 'list', default: [], item: /^[0-9a-fA-F:.]+\/\d{1,3}$/, itemHint: 'a CIDR like 10.0.0.0/8',
      doc: 'Lab use: address ranges user-shared targets may be in besides public addresses. engine.allowPrivate never applies to them.',
    },
  },
  ops: {
    listen: {
      t: 'string', default: '127.0.0.1:9464', env: 'MXV_OPS_LISTEN', emptyEnv: true, pattern: OPT_LISTEN, patternHint: 'host:port or empty',
      doc: 'GET /healthz (200 while syncing, 503 otherwise) and GET /metrics (Prometheus) listen here; empty disables. Equal to web.listen: served by the helper server.',
    },
  },
  logging: {
    level: { t: 'enum', default: 'info', values: ['debug', 'info', 'warn', 'error'], env: 'MXV_LOG_LEVEL', doc: 'Least severe level logged.' },
    format: { t: 'enum', default: 'auto', values: ['auto', 'json', 'text'], env: 'MXV_LOG_FORMAT', doc: 'auto = JSON when stdout is not a terminal.' },
  },
} as const satisfies Section;

type ValueOf<F> = F extends { t: 'string' | 'cron' | 'timezone' | 'url' } ? string
  : F extends { t: 'optString' | 'optUrl' } ? string | null
  : F extends { t: 'secret' } ? Secret | null
  : F extends { t: 'int' } ? number
  : F extends { t: 'bool' } ? boolean
  : F extends { t: 'enum'; values: readonly (infer V)[] } ? V
  : F extends { t: 'list' } ? string[]
  : never;

type ConfigOf<S> = { -readonly [K in keyof S]: S[K] extends { t: string; doc: string } ? ValueOf<S[K]> : ConfigOf<S[K]> };

/** The validated configuration the bot runs with. */
export type BotConfig = ConfigOf<typeof SCHEMA>;
