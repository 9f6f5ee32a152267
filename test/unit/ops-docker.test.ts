// Static validation of the Docker assets (no Docker engine here): the compose
// file parses and its references hold (services, volumes, mounts, env vars,
// health checks), the Dockerfile keeps its promises (multi-stage, slim,
// non-root, health check), and the bot config the stack mounts is valid.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig, SCHEMA } from '../../src/config';
import { isField, type Section } from '../../src/config/schema';

const ROOT = resolve(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: unknown;
  entrypoint?: unknown;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  network_mode?: string;
  ports?: string[];
  restart?: string;
}
const composeText = read('docker-compose.yml');
const compose = parse(composeText) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

/** Every ${VAR...} the compose file interpolates. */
const interpolated = [...new Set([...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!))];

function envKeysOfSchema(s: Section, out: Set<string> = new Set()): Set<string> {
  for (const v of Object.values(s)) {
    if (isField(v)) {
      if (v.env) out.add(v.env);
    } else envKeysOfSchema(v, out);
  }
  return out;
}

describe('docker-compose.yml', () => {
  test('has synapse, coturn and the bot, plus the one-shot helpers', () => {
    expect(Object.keys(services).sort()).toEqual(['bot', 'bot-account', 'coturn', 'livekit', 'lk-jwt-service', 'synapse', 'synapse-init']);
    // MatrixRTC: the real images, pinned.
    expect(services.livekit!.image).toMatch(/livekit\/livekit-server:v1\.9\.11\}?$/);
    expect(services['lk-jwt-service']!.image).toMatch(/ghcr\.io\/element-hq\/lk-jwt-service:\d+\.\d+\.\d+\}?$/);
    expect(services.synapse!.image).toMatch(/matrixdotorg\/synapse/);
    expect(services.coturn!.image).toMatch(/coturn\/coturn/);
    expect(services.bot!.build).toBe('.');
  });

  test('long-running services have health checks and restart policies', () => {
    for (const name of ['synapse', 'coturn', 'bot']) {
      const s = services[name]!;
      expect(s.healthcheck?.test?.[0]).toBe('CMD');
      expect(s.restart).toBe('unless-stopped');
    }
    expect(services.bot!.healthcheck!.test.join(' ')).toContain('/healthz');
  });

  test('depends_on points at real services with a matching condition', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep]).toBeDefined();
        if (condition === 'service_healthy') expect(services[dep]!.healthcheck).toBeDefined();
        if (condition === 'service_completed_successfully') expect(services[dep]!.restart).toBe('no');
        expect(dep).not.toBe(name);
      }
    }
  });

  test('named volumes are declared; bind mounts exist in the repo', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Set<string>();
    for (const s of Object.values(services)) {
      for (const v of s.volumes ?? []) {
        const src = v.startsWith('${') ? v.slice(0, v.indexOf('}') + 1) : v.split(':')[0]!;
        const withDefault = /^\$\{[A-Z_]+:-([^}]+)\}$/.exec(src);
        const path = withDefault ? withDefault[1]! : src;
        if (path.startsWith('.') || path.startsWith('/')) expect(existsSync(join(ROOT, path))).toBe(true);
        else {
          expect(declared).toContain(path);
          used.add(path);
        }
      }
    }
    expect([...used].sort()).toEqual(declared.sort());
    expect(declared).toEqual(expect.arrayContaining(['synapse-data', 'bot-data']));
  });

  test('no secret is written into the compose file; every variable is documented in docker/env.example', () => {
    expect(composeText).not.toMatch(/(SECRET|PASSWORD)\s*[:=]\s*["']?[A-Za-z0-9]{8,}/);
    const example = read('docker/env.example');
    for (const v of interpolated) expect(example).toMatch(new RegExp(`^#? ?${v}=`, 'm'));
    for (const v of ['TURN_SHARED_SECRET', 'BOT_PASSWORD', 'SERVER_NAME', 'TURN_HOST', 'MATRIX_PUBLIC_URL']) {
      expect(composeText).toContain(`\${${v}:?`);
    }
  });

  test('Synapse and coturn share the one TURN secret; Synapse gets turn_uris', () => {
    expect(services['synapse-init']!.environment!.TURN_SHARED_SECRET).toContain('${TURN_SHARED_SECRET');
    expect(services.coturn!.environment!.TURN_SHARED_SECRET).toContain('${TURN_SHARED_SECRET');
    expect(services.bot!.environment!.MXV_TURN_SHARED_SECRET).toContain('${TURN_SHARED_SECRET');
    expect(JSON.stringify(services.synapse!.command)).toContain('/data/turn.yaml');
    const init = read('docker/synapse/synapse-init.sh');
    for (const k of ['turn_uris:', 'turn_shared_secret:', 'turn_user_lifetime: 1h', 'turns:${TURN_HOST}']) expect(init).toContain(k);
    const entry = read('docker/coturn/entrypoint.sh');
    expect(entry).toContain('static-auth-secret=${TURN_SHARED_SECRET}');
    expect(entry).not.toMatch(/turnserver .*static-auth-secret/); // never on the command line
  });

  test('coturn config carries the hardening the checks look for', () => {
    const conf = read('docker/coturn/turnserver.conf');
    for (const line of ['use-auth-secret', 'no-tcp-relay', 'no-software-attribute', 'no-rfc5780', 'denied-peer-ip=10.0.0.0-10.255.255.255', 'denied-peer-ip=169.254.0.0-169.254.255.255', 'denied-peer-ip=127.0.0.0-127.255.255.255', 'denied-peer-ip=::ffff:0.0.0.0-::ffff:255.255.255.255']) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(conf).not.toMatch(/^(allow-loopback-peers|no-auth|static-auth-secret)/m);
  });

  test('the bot config mounted by the stack is valid with the env the stack passes', () => {
    const env = { ...services.bot!.environment } as Record<string, string>;
    // Compose would interpolate these from .env.
    const filled: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) filled[k] = v.replace(/\$\{[^}]+\}/g, 'x').replace('@x:x', '@voiptest:example.org');
    filled.MXV_HOMESERVER_URL = 'https://matrix.example.org';
    filled.MXV_CONFIG = '';
    const cfg = loadConfig({ path: join(ROOT, 'docker/bot/config.yaml'), env: filled });
    expect(cfg.dataDir).toBe('/data');
    expect(cfg.logging.format).toBe('json');
    expect(cfg.turn.sharedSecret).not.toBeNull();
  });

  test('bot env vars are ones the bot reads (or the documented pending ones)', () => {
    const known = envKeysOfSchema(SCHEMA as unknown as Section);
    // MXV_CONFIG is read by src/main.ts; MXV_OPS_LISTEN is the /healthz + /metrics listener (src/ops/server.ts).
    const extra = new Set(['MXV_CONFIG', 'MXV_OPS_LISTEN']);
    for (const k of Object.keys(services.bot!.environment!)) expect(known.has(k) || extra.has(k)).toBe(true);
  });
});

describe('Dockerfile', () => {
  const df = read('Dockerfile');
  const froms = [...df.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({ image: m[1]!, stage: m[2] }));

  test('multi-stage: a build stage, a slim runtime stage', () => {
    expect(froms).toHaveLength(2);
    expect(froms[0]).toMatchObject({ stage: 'build' });
    expect(froms[1]!.image).toMatch(/^node:20-.*slim$/);
    expect(df).toMatch(/COPY --from=build .*\/app\/node_modules/);
    expect(df).toMatch(/COPY --from=build .*\/app\/dist/);
    expect(df).toMatch(/npm prune --omit=dev/);
    expect(df).toMatch(/tsc -p docker\/tsconfig\.build\.json/);
  });

  test('runtime is non-root, has a health check and runs the bot', () => {
    const runtime = df.slice(df.search(/^FROM .* AS runtime/m));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).not.toMatch(/^USER root/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(runtime).toMatch(/^CMD \["dist\/src\/main\.js"\]/m);
  });

  test('what it copies exists and is not excluded by .dockerignore', () => {
    const ignore = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const sources = [...df.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1]!.split(/\s+/).slice(0, -1)).filter((s) => !s.startsWith('--'));
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) {
      expect(existsSync(join(ROOT, s))).toBe(true);
      const top = s.split('/')[0]!;
      const excluded = ignore.includes(top) || (ignore.includes(`${top}/*`) && !ignore.includes(`!${s}`));
      expect({ s, excluded }).toEqual({ s, excluded: false });
    }
  });
});
