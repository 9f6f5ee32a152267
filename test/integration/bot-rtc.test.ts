// The bot's `!voiptest` through both call paths against the real lab stack:
// a loopback coturn behind Synapse's turn_uris, and the lab MatrixRTC stack
// (LiveKit 1.9.11 in a network namespace, the lk-jwt-service stand-in, Synapse
// with msc4143 + matrix_rtc.transports). The bot runs the RTC checks because its
// homeserver advertises a transport; engine.rtcFederationUrl points RTC-4 at the
// lab Synapse's federation listener. No token or JWT in any message, log line or
// history row.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startMatrixRtcLab, type MatrixRtcLab } from '../../scripts/lab/matrixrtc';
import type { SynapseUser } from '../../scripts/lab/synapse';
import { VoipBot } from '../../src/bot/bot';
import { adoptSdkLogging } from '../../src/bot/sdk-log';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/ops/log';
import { disposeRtcMedia } from '../../src/tester/rtc/media';
import { matrixTestClient, waitFor } from '../support/matrix-client';

jest.setTimeout(240_000);

const isRoot = process.getuid?.() === 0;
const JWT = /eyJ[A-Za-z0-9_-]{10,}\./;

(isRoot ? describe : describe.skip)('bot: !voiptest with MatrixRTC', () => {
  let coturn: CoturnLab | undefined;
  let rtc: MatrixRtcLab | undefined;
  let bot: VoipBot | undefined;
  let alice: SynapseUser;
  let botUser: SynapseUser;
  const dir = mkdtempSync(join(tmpdir(), 'mxv-bot-rtc-'));
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', format: 'json', sink: { write: (l: string) => logLines.push(l) } });
  const { api, send, events, botNotice } = matrixTestClient(() => rtc!.synapse.url, () => botUser.userId, 'rtc');

  beforeAll(async () => {
    coturn = await startCoturn({ tls: true });
    const u = coturn.uris('127.0.0.1');
    rtc = await startMatrixRtcLab({ livekit: { turnTlsPort: 443 }, synapse: { turnUris: [u.turnUdp, u.turnTcp], turnSharedSecret: coturn.secret, turnUserLifetime: '1h' } });
    [botUser, alice] = await Promise.all([rtc.synapse.registerUser('voiptest', 'bot-password'), rtc.synapse.registerUser('alice', 'alice-password', true)]);
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, `${coturn.caPem}\n${rtc.livekit.turnCertPem}`);
    const config = loadConfig({
      env: { MXV_ACCESS_TOKEN: botUser.accessToken.reveal() },
      text: `
homeserver: { url: "${rtc.synapse.url}" }
dataDir: "${join(dir, 'data')}"
admins: ["${alice.userId}"]
invites: { users: ["${alice.userId}"] }
engine:
  allowPrivate: true
  assumePublic: ${JSON.stringify(['127.0.0.0/8', ...rtc.assumePublic])}
  family: ipv4
  quality: "off"
  e2e: false
  timeoutMs: 30000
  ca: ["${caFile}"]
  rtcFederationUrl: "${rtc.synapse.federationUrl}"
logging: { level: "debug", format: "json" }
ops: { listen: "127.0.0.1:0" }
encryption: { enabled: false }
`,
    });
    bot = new VoipBot(config, log);
    adoptSdkLogging(log);
    await bot.start();
  });

  afterAll(async () => {
    await bot?.stop(2000).catch(() => undefined);
    await disposeRtcMedia();
    await rtc?.stop();
    await coturn?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the report names the MatrixRTC grade beside IPv4; its thread has the RTC checks; no token anywhere', async () => {
    const { room_id: room } = await api(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId] });
    await waitFor('bot joined', async () => Boolean((await api(alice, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[botUser.userId]));
    const t0 = performance.now();
    const e = await send(alice, room, '!voiptest');
    const report = await botNotice(alice, room, e, /^VoIP check of/, 90_000);
    const wallMs = performance.now() - t0;
    // The healthy lab LiveKit (UDP, TCP 7881 and TURN/TLS on 443 all carry media): Excellent.
    expect(report.content.body).toMatch(/^VoIP check of http:\/\/127\.0\.0\.1:\d+: \w+ \(IPv4 [^;]+; IPv6 [^;]+; MatrixRTC Excellent(?:, capped at Poor by [A-Z0-9, -]+)?\)/);
    expect(report.content.formatted_body).toContain('MatrixRTC');
    const thread = await waitFor('thread replies', async () => {
      const parts = (await events(alice, room)).filter((x) => x.sender === botUser.userId && x.content['m.relates_to']?.event_id === report.event_id);
      const n = /\((\d+)\/(\d+)\)/.exec(String(parts[0]?.content.body ?? ''));
      return n && parts.length === Number(n[2]) ? parts : null;
    }, 30_000);
    const details = thread.map((x) => String(x.content.body)).join('\n');
    for (const id of ['RTC-1', 'RTC-3', 'RTC-4', 'RTC-5', 'RTC-7']) expect(details).toContain(id);

    // Nothing secret in any message of the room, the bot's log, or the history database.
    const history = new Database(join(dir, 'data', 'history.db'), { readonly: true });
    const tables = history.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    const rows = JSON.stringify(tables.map((t) => history.prepare(`SELECT * FROM "${t.name}"`).all()));
    const stored = JSON.parse((history.prepare('SELECT report_json FROM runs ORDER BY id DESC LIMIT 1').get() as { report_json: string }).report_json) as { grade: { rtc?: string }; checks: { id: string; status: string; path?: string; evidence?: Record<string, unknown> }[] };
    history.close();
    expect(stored.grade.rtc).toBe('Excellent');
    // engine.rtcFederationUrl reached the engine: RTC-4 asked the lab Synapse's federation listener (discovery would try :8448 and fail).
    expect(stored.checks.find((c) => c.id === 'RTC-4')).toMatchObject({ status: 'pass', evidence: { federationUrl: rtc!.synapse.federationUrl } });
    expect(stored.checks.filter((c) => c.id === 'RTC-7').map((c) => `${c.path}:${c.status}`).sort()).toEqual(['relay:pass', 'tcp:pass', 'udp:pass']);
    const all = [JSON.stringify(await events(alice, room)), logLines.join('\n'), rows];
    for (const text of all) {
      expect(text).not.toContain(botUser.accessToken.reveal());
      expect(text).not.toContain(alice.accessToken.reveal());
      expect(text).not.toContain(rtc!.livekit.apiSecret.reveal());
      expect(text).not.toContain(coturn!.secret!);
      expect(text).not.toMatch(JWT);
      expect(text).not.toMatch(/"(jwt|access_token|openid_token|password|credential)":"[^"]/);
    }
    process.stderr.write(`bot-rtc: !voiptest (TURN + RTC, quality off) answered in ${Math.round(wallMs)} ms\n`);
  });
});
