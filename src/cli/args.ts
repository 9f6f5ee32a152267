// `voiptest check` options, described once: the parser and --help come from this table.
import { readFileSync } from 'node:fs';
import { CHECK_IDS, isCheckId, type CheckId } from '../tester/checks';
import type { CredentialSpec } from '../tester/credentials/types';
import { DEFAULT_REST_TTL_S, DEFAULT_REST_USER } from '../tester/credentials/rest';
import { DEFAULT_CHECK_OPTIONS, MAX_ALLOCATIONS_LIMIT, type CheckOptions, type FamilyOption, type QualityProfile } from '../tester/options';
import { Secret } from '../tester/secret';

export type Format = 'text' | 'markdown' | 'html' | 'json';

interface OptionSpec {
  name: string;
  arg?: string;
  repeat?: boolean;
  help: string;
  group: 'source' | 'options';
  /** Holds a credential: read from the environment variable too, never echoed. */
  secretEnv?: string;
}

export const OPTIONS: OptionSpec[] = [
  { name: 'homeserver', arg: 'URL', group: 'source', help: 'get TURN credentials from this homeserver (/voip/turnServer)' },
  { name: 'access-token', arg: 'T', group: 'source', help: 'access token for --homeserver (or env MXV_ACCESS_TOKEN)', secretEnv: 'MXV_ACCESS_TOKEN' },
  { name: 'user', arg: 'MXID', group: 'source', help: 'log in to --homeserver as this user (with --password)' },
  { name: 'uri', arg: 'URI', repeat: true, group: 'source', help: 'a stun:/turn:/turns: URI to test' },
  { name: 'xmpp', arg: 'JID', group: 'source', help: 'log in as this XMPP account (with --password) and test the STUN/TURN it discovers (XEP-0215)' },
  { name: 'xmpp-server', arg: 'HOST[:PORT]', group: 'source', help: 'connect --xmpp here instead of the SRV records (xmpps://HOST[:PORT] for direct TLS)' },
  { name: 'username', arg: 'U', group: 'source', help: 'TURN username for --uri' },
  { name: 'password', arg: 'P', group: 'source', help: 'TURN, Matrix or XMPP password (or env MXV_PASSWORD)', secretEnv: 'MXV_PASSWORD' },
  { name: 'secret', arg: 'S', group: 'source', help: 'TURN REST shared secret: mint credentials (or env MXV_TURN_SECRET)', secretEnv: 'MXV_TURN_SECRET' },
  { name: 'ttl', arg: 'SECONDS', group: 'source', help: `lifetime of minted credentials (default ${DEFAULT_REST_TTL_S})` },
  { name: 'user-id', arg: 'ID', group: 'source', help: `user part of minted REST usernames (default ${DEFAULT_REST_USER})` },
  { name: 'realm', arg: 'REALM', group: 'options', help: 'the realm the TURN server should announce (AUTH-5)' },
  { name: 'max-allocations', arg: 'N', group: 'options', help: `allocations held at once (default ${DEFAULT_CHECK_OPTIONS.maxAllocations}, at most ${MAX_ALLOCATIONS_LIMIT}); raise only when the TURN user quota allows` },
  { name: 'family', arg: 'ipv4|ipv6|both', group: 'options', help: `address families to test (default ${DEFAULT_CHECK_OPTIONS.family})` },
  { name: 'only', arg: 'ID[,ID]', group: 'options', help: 'run just these checks (and what they need); `rtc` = only the MatrixRTC checks' },
  { name: 'rtc', group: 'options', help: 'run the MatrixRTC (Element Call/X) checks even when no transport is advertised' },
  { name: 'livekit-service-url', arg: 'URL', group: 'options', help: 'test this MatrixRTC authorization service (lk-jwt-service) too' },
  { name: 'rtc-federation-url', arg: 'URL', group: 'options', help: 'lab use: federation base URL for the OpenID check (RTC-4) instead of discovery' },
  { name: 'allow-private', group: 'options', help: 'lab use: permit loopback/private/special targets' },
  { name: 'assume-public', arg: 'CIDR', repeat: true, group: 'options', help: 'lab use: treat relayed addresses in this range as public' },
  { name: 'ca', arg: 'FILE', repeat: true, group: 'options', help: 'lab use: extra trusted CA (PEM) for turns: (and the --xmpp server)' },
  { name: 'quality', arg: 'off|audio|video', group: 'options', help: `path quality measurement (default ${DEFAULT_CHECK_OPTIONS.quality})` },
  { name: 'no-e2e', group: 'options', help: 'skip the in-process WebRTC check (E2E-1)' },
  { name: 'format', arg: 'text|markdown|html|json', group: 'options', help: 'output format (default text)' },
  { name: 'json', group: 'options', help: 'same as --format json' },
  { name: 'timeout-ms', arg: 'N', group: 'options', help: `overall deadline (default ${DEFAULT_CHECK_OPTIONS.timeoutMs})` },
  { name: 'help', group: 'options', help: 'show this help' },
];

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function helpText(): string {
  const line = (o: OptionSpec) => `${`  --${o.name}${o.arg ? ` ${o.arg}` : ''}`.padEnd(33)} ${o.help}${o.repeat ? ' (repeatable)' : ''}`;
  return [
    'voiptest check [source] [options]',
    '',
    'Tests a STUN/TURN setup and reports what works, what is broken and which setting to change.',
    '',
    'source (one of):',
    '  --homeserver URL (--access-token T | --user MXID --password P)',
    '  --uri URI ... (--username U --password P | --secret S [--ttl SECONDS] [--user-id ID])',
    '  --xmpp JID --password P [--xmpp-server HOST[:PORT]]',
    '',
    ...OPTIONS.filter((o) => o.group === 'source').map(line),
    '',
    'options:',
    ...OPTIONS.filter((o) => o.group === 'options').map(line),
    '',
    `check ids: ${CHECK_IDS.join(', ')}`,
    'exit: 0 no finding at fail; 1 a finding at fail or any critical; 2 the run could not start',
  ].join('\n');
}

type Raw = Map<string, string[]>;

export function parseRaw(argv: string[]): Raw {
  const byName = new Map(OPTIONS.map((o) => [o.name, o]));
  const raw: Raw = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a.slice(0, 80)}" (options start with --)`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name.slice(0, 40)} (see --help)`);
    let value = 'true';
    if (spec.arg) {
      if (eq >= 0) value = a.slice(eq + 1);
      else {
        if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new UsageError(`--${name} needs a value (${spec.arg})`);
        value = argv[++i];
      }
    } else if (eq >= 0) throw new UsageError(`--${name} takes no value`);
    const prev = raw.get(name);
    if (prev && !spec.repeat) throw new UsageError(`--${name} given twice`);
    raw.set(name, [...(prev ?? []), value]);
  }
  return raw;
}

export interface CliRequest {
  help: boolean;
  options: CheckOptions;
  format: Format;
}

function one(raw: Raw, name: string): string | undefined {
  return raw.get(name)?.[0];
}

function secretOf(raw: Raw, name: string, env: NodeJS.ProcessEnv): Secret | undefined {
  const spec = OPTIONS.find((o) => o.name === name);
  const v = one(raw, name) ?? (spec?.secretEnv ? env[spec.secretEnv] : undefined);
  return v === undefined || v === '' ? undefined : new Secret(v);
}

function positiveInt(raw: Raw, name: string): number | undefined {
  const v = one(raw, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) <= 0) throw new UsageError(`--${name} must be a positive whole number, got "${v.slice(0, 20)}"`);
  return Number(v);
}

function enumOf<T extends string>(raw: Raw, name: string, allowed: readonly T[], dflt: T): T {
  const v = one(raw, name);
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${v.slice(0, 20)}"`);
  return v as T;
}

function maxAllocations(raw: Raw): { maxAllocations?: number } {
  const n = positiveInt(raw, 'max-allocations');
  if (n === undefined) return {};
  if (n > MAX_ALLOCATIONS_LIMIT) throw new UsageError(`--max-allocations must be at most ${MAX_ALLOCATIONS_LIMIT}`);
  return { maxAllocations: n };
}

export function parseCheckArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliRequest {
  const raw = parseRaw(argv);
  const format: Format = raw.has('json') ? 'json' : enumOf(raw, 'format', ['text', 'markdown', 'html', 'json'] as const, 'text');
  if (raw.has('help')) return { help: true, format, options: { ...DEFAULT_CHECK_OPTIONS, credentials: { kind: 'explicit', uris: [], username: '', password: new Secret('') } } };

  const homeserver = one(raw, 'homeserver');
  const uris = raw.get('uri') ?? [];
  const password = secretOf(raw, 'password', env);
  const secret = secretOf(raw, 'secret', env);
  const xmpp = one(raw, 'xmpp');
  let credentials: CredentialSpec;
  if (xmpp !== undefined) {
    if (homeserver !== undefined || uris.length > 0) throw new UsageError('give one source: --xmpp, --homeserver or --uri');
    if (!password) throw new UsageError('--xmpp needs --password P (or env MXV_PASSWORD)');
    credentials = { kind: 'xmpp', jid: xmpp, password, ...(one(raw, 'xmpp-server') !== undefined ? { server: one(raw, 'xmpp-server') } : {}) };
  } else if (raw.has('xmpp-server')) {
    throw new UsageError('--xmpp-server needs --xmpp JID');
  } else if (homeserver !== undefined) {
    if (uris.length > 0) throw new UsageError('give either --homeserver or --uri, not both');
    const accessToken = secretOf(raw, 'access-token', env);
    const user = one(raw, 'user');
    if (!accessToken && !(user && password)) throw new UsageError('--homeserver needs --access-token T, or --user MXID with --password P');
    credentials = { kind: 'homeserver', homeserver, accessToken, user, password: accessToken ? undefined : password, sharedSecret: secret };
  } else if (uris.length > 0) {
    if (secret) {
      credentials = { kind: 'secret', uris, secret, ttl: positiveInt(raw, 'ttl'), userId: one(raw, 'user-id') };
    } else {
      const username = one(raw, 'username');
      if (username === undefined || !password) throw new UsageError('--uri needs --username U with --password P, or --secret S');
      credentials = { kind: 'explicit', uris, username, password };
    }
  } else {
    throw new UsageError('nothing to test: give --homeserver URL, --uri URI or --xmpp JID (see --help)');
  }

  let only: CheckId[] | undefined;
  let onlyRtc = false;
  const onlyRaw = one(raw, 'only');
  if (onlyRaw !== undefined) {
    const ids = onlyRaw.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
    const bad = ids.filter((x) => !isCheckId(x) && x !== 'RTC');
    if (bad.length > 0) throw new UsageError(`--only: unknown check id ${bad.map((b) => `"${b.slice(0, 20)}"`).join(', ')}`);
    onlyRtc = ids.includes('RTC') || (ids.length > 0 && ids.every((x) => x.startsWith('RTC-')));
    const rest = ids.filter((x) => x !== 'RTC');
    only = rest.length > 0 ? (rest as CheckId[]) : undefined;
  }
  const serviceUrl = one(raw, 'livekit-service-url');
  if (serviceUrl !== undefined && !/^https?:\/\/[^\s]{1,300}$/i.test(serviceUrl)) throw new UsageError(`--livekit-service-url must be an http(s) URL, got "${serviceUrl.slice(0, 60)}"`);
  const federationUrl = one(raw, 'rtc-federation-url');
  if (federationUrl !== undefined && !/^https?:\/\/[^\s]{1,300}$/i.test(federationUrl)) throw new UsageError(`--rtc-federation-url must be an http(s) URL, got "${federationUrl.slice(0, 60)}"`);

  const ca = (raw.get('ca') ?? []).map((file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`--ca ${file}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}`);
    }
  });

  const options: CheckOptions = {
    ...DEFAULT_CHECK_OPTIONS,
    credentials,
    family: enumOf<FamilyOption>(raw, 'family', ['ipv4', 'ipv6', 'both'], DEFAULT_CHECK_OPTIONS.family),
    only,
    allowPrivate: raw.has('allow-private'),
    assumePublic: raw.get('assume-public') ?? [],
    ca: ca.length > 0 ? ca : undefined,
    quality: enumOf<QualityProfile>(raw, 'quality', ['off', 'audio', 'video'], DEFAULT_CHECK_OPTIONS.quality),
    timeoutMs: positiveInt(raw, 'timeout-ms') ?? DEFAULT_CHECK_OPTIONS.timeoutMs,
    e2e: !raw.has('no-e2e'),
    ...(one(raw, 'realm') !== undefined ? { expectedRealm: one(raw, 'realm') } : {}),
    ...maxAllocations(raw),
    rtc: {
      force: raw.has('rtc') || onlyRtc || serviceUrl !== undefined,
      only: onlyRtc,
      ...(serviceUrl ? { serviceUrl } : {}),
      ...(federationUrl ? { federationUrl } : {}),
    },
  };
  return { help: false, format, options };
}
