// MatrixRTC against the real lab stack: LiveKit 1.9.11 in a network namespace,
// the lk-jwt-service stand-in (lab only) and Synapse with MSC4143, beside a
// coturn for the legacy path. Checks the stack itself (processes by PID, the
// stand-in's protocol), one `voiptest check` through both call paths (JSON
// with the rtc grade, no token or JWT in the output), then the MatrixRTC
// scenario lab (one fault at a time, each judged on its diagnosis).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startMatrixRtcLab, type MatrixRtcLab } from '../../scripts/lab/matrixrtc';
import { pidAlive } from '../../scripts/lab/proc';
import type { SynapseUser } from '../../scripts/lab/synapse';
import { disposeRtcMedia } from '../../src/tester/rtc/media';
import { RTC_SCENARIOS } from '../scenarios/rtc/cases';
import { rtcTable, runRtcScenarios, type RtcOutcome } from '../scenarios/rtc/runner';

jest.setTimeout(240_000);

const isRoot = process.getuid?.() === 0;
const root = join(__dirname, '..', '..');

afterAll(() => disposeRtcMedia());

(isRoot ? describe : describe.skip)('lab MatrixRTC stack and both call paths', () => {
  let rtc: MatrixRtcLab | undefined;
  let coturn: CoturnLab | undefined;
  let user: SynapseUser;
  const dir = mkdtempSync(join(tmpdir(), 'mxv-rtc-test-'));

  beforeAll(async () => {
    coturn = await startCoturn({ tls: true });
    const u = coturn.uris('127.0.0.1');
    rtc = await startMatrixRtcLab({ livekit: { turnTlsPort: 443 }, synapse: { turnUris: [u.turnUdp, u.turnTcp], turnSharedSecret: coturn.secret, turnUserLifetime: '1h' } });
    user = await rtc.synapse.registerUser('alice', 'alice-password');
  });

  afterAll(async () => {
    await rtc?.stop();
    await coturn?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the stand-in speaks lk-jwt-service\'s protocol (status codes, errcodes, unknown fields, CORS)', async () => {
    const s = rtc!.serviceUrl;
    expect((await fetch(`${s}/healthz`)).status).toBe(200);
    expect((await fetch(`${s}/healthz`, { method: 'POST' })).status).toBe(405);
    const pre = await fetch(`${s}/get_token`, { method: 'OPTIONS' });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${s}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json().catch(() => null)) as { errcode?: string; url?: string; jwt?: string } | null };
    };
    const openid = await fetch(`${rtc!.synapse.url}/_matrix/client/v3/user/${encodeURIComponent(user.userId)}/openid/request_token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken.reveal()}`, 'content-type': 'application/json' },
      body: '{}',
    }).then((r) => r.json());
    const good = { room_id: '!r:localhost', slot_id: 'm.call#ROOM', openid_token: openid, member: { id: 'm', claimed_user_id: user.userId, claimed_device_id: 'D' } };
    expect((await post('/get_token', { ...good, extra: 1 })).body?.errcode).toBe('M_NOT_JSON');
    expect(await post('/get_token', { ...good, slot_id: '' })).toEqual({ status: 400, body: expect.objectContaining({ errcode: 'M_BAD_JSON' }) });
    expect(await post('/get_token', { ...good, delay_id: 'x' })).toEqual({ status: 400, body: expect.objectContaining({ errcode: 'M_BAD_JSON' }) });
    expect(await post('/get_token', { ...good, openid_token: { ...openid, access_token: 'forged' } })).toEqual({ status: 401, body: expect.objectContaining({ errcode: 'M_UNAUTHORIZED' }) });
    expect(await post('/get_token', { ...good, member: { ...good.member, claimed_user_id: '@mallory:localhost' } })).toEqual({ status: 401, body: expect.objectContaining({ errcode: 'M_UNAUTHORIZED' }) });
    const ok = await post('/get_token', good);
    expect(ok.status).toBe(200);
    expect(ok.body?.url).toBe(rtc!.livekit.wsUrl);
    const claims = JSON.parse(Buffer.from(ok.body!.jwt!.split('.')[1]!, 'base64url').toString()) as { video: Record<string, unknown> };
    expect(claims.video).toMatchObject({ roomJoin: true, canPublish: true, canSubscribe: true });
    expect(claims.video.roomCreate).toBeFalsy();
    expect((await post('/sfu/get', { room: '!r:localhost', openid_token: openid, device_id: 'D' })).status).toBe(200);
  });

  test('voiptest check --homeserver runs both call paths; JSON has the MatrixRTC grade and no secret', async () => {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, `${coturn!.caPem}\n${rtc!.livekit.turnCertPem}`);
    const args = ['src/cli.ts', 'check', '--homeserver', rtc!.synapse.url, '--access-token', user.accessToken.reveal(), '--allow-private', '--family', 'ipv4', '--quality', 'off', '--no-e2e', '--json', '--ca', caFile, '--rtc-federation-url', rtc!.synapse.federationUrl!];
    for (const c of rtc!.assumePublic) args.push('--assume-public', c);
    const t0 = performance.now();
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(join(root, 'node_modules', '.bin', 'tsx'), args, { cwd: root, timeout: 60_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
    );
    const wallMs = performance.now() - t0;
    const report = JSON.parse(out.stdout);
    mkdirSync(join(root, 'test-artifacts'), { recursive: true });
    writeFileSync(join(root, 'test-artifacts', 'rtc-both-paths.json'), out.stdout);
    // Both call paths in one report: the TURN grades and the MatrixRTC grade beside them.
    // (The loopback coturn's relayed addresses are loopback: ALLOC-1 holds the TURN grade at Poor, as in the bench.)
    expect(report.uris.map((u: { uri: string }) => u.uri)).toEqual(expect.arrayContaining([expect.stringContaining(`127.0.0.1:${coturn!.port}`)]));
    expect(report.grade.ipv4).toMatch(/Excellent|Great|Good|Poor/);
    expect(report.grade.rtc).toBe('Excellent');
    expect(report.rtc).toEqual([expect.objectContaining({ serviceUrl: rtc!.serviceUrl, sfuUrl: rtc!.livekit.wsUrl, grade: 'Excellent', paths: { udp: true, tcp: true, relay: true } })]);
    expect(report.rtc[0].iceServers).toEqual(expect.arrayContaining([expect.stringMatching(/^turns:.*:443\?transport=tcp$/)]));
    const ids = new Set(report.checks.filter((c: { scope?: string }) => c.scope === 'rtc').map((c: { id: string }) => c.id));
    for (const id of ['RTC-1', 'RTC-2', 'RTC-3', 'RTC-4', 'RTC-5', 'RTC-6', 'RTC-7', 'RTC-8', 'AUTH-2', 'DATA-1']) expect(ids).toContain(id);
    const rtc7 = report.checks.filter((c: { id: string }) => c.id === 'RTC-7');
    expect(rtc7.map((c: { path: string; status: string }) => `${c.path}:${c.status}`).sort()).toEqual(['relay:pass', 'tcp:pass', 'udp:pass']);
    expect(report.checks.find((c: { id: string; path?: string }) => c.id === 'RTC-7' && c.path === 'udp').evidence.selectedPair).toMatchObject({ protocol: 'udp' });
    // LiveKit's TURN findings carry the transport and the ICE server they are about.
    expect(report.checks.find((c: { id: string; scope?: string }) => c.id === 'DATA-1' && c.scope === 'rtc')).toMatchObject({ rtc: rtc!.serviceUrl, uri: expect.stringMatching(/^turns?:/), status: 'pass' });
    // No access token, LiveKit JWT (eyJ...), TURN password or API secret anywhere in the output.
    const all = out.stdout + out.stderr;
    expect(all).not.toContain(user.accessToken.reveal());
    expect(all).not.toContain(rtc!.livekit.apiSecret.reveal());
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(all).not.toMatch(/"(password|credential|jwt|access_token)"/);
    process.stderr.write(`rtc: whole run (TURN + RTC, quality off) ${Math.round(wallMs)} ms incl. tsx start; engine ${report.durationMs} ms\n`);
  });

  test('every lab process is gone after stop()', async () => {
    const pids = [rtc!.livekit.pid, rtc!.standin!.pid, rtc!.synapse.pid];
    for (const p of pids) expect(pidAlive(p)).toBe(true);
    await rtc!.stop();
    for (const p of pids) expect(pidAlive(p)).toBe(false);
    rtc = undefined;
  });
});

(isRoot ? describe : describe.skip)('MatrixRTC scenario lab', () => {
  let outcomes: Promise<RtcOutcome[]>;
  beforeAll(() => {
    outcomes = runRtcScenarios(RTC_SCENARIOS);
    outcomes.catch(() => undefined);
  });
  afterAll(async () => {
    const o = await outcomes.catch(() => []);
    mkdirSync(join(root, 'test-artifacts'), { recursive: true });
    writeFileSync(join(root, 'test-artifacts', 'rtc-scenarios.txt'), `${rtcTable(o)}\n`);
  });
  for (const s of RTC_SCENARIOS) {
    test(`${s.name}: ${s.title}`, async () => {
      const o = (await outcomes).find((x) => x.scenario.name === s.name)!;
      expect(o.error).toBeNull();
      expect(o.wrong).toEqual([]);
    });
  }
});
