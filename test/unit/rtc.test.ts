// MatrixRTC pure logic: candidate parsing, the selected pair from rtc-node stats,
// JWT claims (never the token), RTC-3's causes, the MatrixRTC grade, and the
// report's optional rtc fields; hints name LiveKit's settings.
import { parseCheckArgs, UsageError } from '../../src/cli/args';
import { renderMarkdown, renderPlain, renderText } from '../../src/render';
import { finding } from '../../src/tester/probes/finding';
import { buildReport, toJson } from '../../src/tester/report';
import { rtcFinding, jwtClaims } from '../../src/tester/rtc/context';
import { selectedPair, plainStats } from '../../src/tester/rtc/media';
import { judgeToken } from '../../src/tester/rtc/service';
import { parseCandidate } from '../../src/tester/rtc/signalling';
import { rtcGrade } from '../../src/tester/score';
import { Secret } from '../../src/tester/secret';
import { lkHash } from '../../scripts/lab/rtc-auth-standin';

const jwt = (payload: object) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;

describe('MatrixRTC logic', () => {
  test('trickled candidates: UDP host and passive TCP are kept, active TCP and junk are not', () => {
    expect(parseCandidate('candidate:1 1 udp 2130706431 198.18.0.11 7882 typ host ufrag x')).toEqual({ protocol: 'udp', address: '198.18.0.11', port: 7882, type: 'host' });
    expect(parseCandidate('candidate:2 1 tcp 1671430143 198.18.0.11 7881 typ host tcptype passive ufrag x')).toMatchObject({ protocol: 'tcp', port: 7881 });
    expect(parseCandidate('candidate:3 1 tcp 1 198.18.0.11 9 typ host tcptype active')).toBeNull();
    expect(parseCandidate('nonsense')).toBeNull();
  });

  test('the selected pair is read from the transport stats (relay protocol normalised)', () => {
    const stats = plainStats({
      publisherStats: [
        { transport: { rtc: { id: 'T' }, transport: { selectedCandidatePairId: 'P' } } },
        { candidatePair: { rtc: { id: 'P' }, candidatePair: { localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.012 } } },
        { localCandidate: { rtc: { id: 'L' }, candidate: { protocol: 'udp', candidateType: 'RELAY', relayProtocol: 'TRANSPORT_UDP' } } },
        { remoteCandidate: { rtc: { id: 'R' }, candidate: { protocol: 'udp', candidateType: 'HOST', address: '198.18.0.11', port: 7882n } } },
      ],
    });
    expect(selectedPair(stats)).toEqual({ protocol: 'udp', localType: 'relay', remoteType: 'host', remoteAddress: '198.18.0.11', remotePort: 7882, relayProtocol: 'udp', rttMs: 12 });
    expect(selectedPair({ publisherStats: [] })).toBeNull();
  });

  test('JWT claims are shown, the token never', () => {
    const token = jwt({ sub: 'abc', exp: 2_000_000_000, video: { room: 'r', roomJoin: true } });
    expect(jwtClaims(token)).toMatchObject({ sub: 'abc', room: 'r', roomJoin: true, roomCreate: false });
    expect(jwtClaims('not.a-jwt')).toBeNull();
    const f = judgeToken('https://rtc.example', { ok: true, grant: { sfuUrl: 'wss://sfu.example', jwt: new Secret(token), claims: jwtClaims(token), endpoint: '/get_token' } }, null, null);
    expect(f).toMatchObject({ id: 'RTC-3', status: 'pass', scope: 'rtc', rtc: 'https://rtc.example' });
    const json = toJson(buildReport({ startedAt: new Date(), durationMs: 1, source: { kind: 'homeserver' }, targets: [], findings: [f], quality: [], toolVersion: 't' }));
    expect(json).not.toContain(token);
    expect(json).not.toContain(token.split('.')[1]);
  });

  test('RTC-3 names the cause from the status, and RTC-4 when the service could not verify OpenID', () => {
    const fail = (status: number) => judgeToken('u', { ok: false, status, errcode: null, endpoint: '/get_token', message: '' }, null, null);
    expect(fail(401).cause).toBe('unauthorized');
    expect(fail(500).cause).toBe('room-create');
    expect(fail(400).cause).toBe('bad-request');
    expect(fail(500).hint).toMatch(/LIVEKIT_KEY/);
    const rtc4 = rtcFinding('RTC-4', null, { status: 'fail', cause: 'not-serving', summary: 'no openid listener', evidence: {} });
    expect(judgeToken('u', { ok: false, status: 401, errcode: 'M_UNAUTHORIZED', endpoint: '/get_token', message: '' }, null, rtc4).summary).toMatch(/RTC-4.*no openid listener/);
    const noJoin = jwt({ video: { room: 'r' } });
    expect(judgeToken('u', { ok: true, grant: { sfuUrl: 's', jwt: new Secret(noJoin), claims: jwtClaims(noJoin), endpoint: '/get_token' } }, null, null).cause).toBe('no-join-grant');
  });

  test('the MatrixRTC grade is the worst transport; absent without one; the JSON fields are optional', () => {
    expect(rtcGrade([])).toBeUndefined();
    expect(rtcGrade([{ grade: 'Excellent' }, { grade: 'Good' }])).toBe('Good');
    const base = { startedAt: new Date(), durationMs: 1, source: { kind: 'homeserver' as const }, targets: [], findings: [], quality: [], toolVersion: 't' };
    const none = buildReport(base);
    expect('rtc' in none).toBe(false);
    expect('rtc' in none.grade).toBe(false);
    const r = buildReport({ ...base, rtc: [{ serviceUrl: 'https://rtc.example', sfuUrl: 'wss://sfu.example', grade: 'Great', iceServers: ['turn:sfu.example:3478?transport=udp'], paths: { udp: true, tcp: true, relay: false } }] });
    expect(r.grade.rtc).toBe('Great');
    expect(r.grade.whyNotHigher.map((w) => w.check)).toContain('RTC-6');
    expect(r.rtc?.[0]).toMatchObject({ serviceUrl: 'https://rtc.example', grade: 'Great' });
  });

  test('RTC hints name the setting to change', () => {
    const hint = (id: 'RTC-1' | 'RTC-5' | 'RTC-7', cause: string) => rtcFinding(id, 'u', { status: 'fail', cause, summary: '', evidence: {} }).hint ?? '';
    expect(hint('RTC-1', 'none')).toMatch(/matrix_rtc\.transports.*msc4143_enabled.*rtc_foci/);
    expect(hint('RTC-5', 'no-room')).toMatch(/LIVEKIT_FULL_ACCESS_HOMESERVERS/);
    expect(hint('RTC-7', 'private-candidates')).toMatch(/rtc\.node_ip|use_external_ip/);
    expect(hint('RTC-7', 'tcp-closed')).toMatch(/rtc\.tcp_port/);
  });

  test("the stand-in names rooms and identities as lk-jwt-service does (unpadded base64 of SHA-256 over the JSON array)", () => {
    expect(lkHash(['!room:example.org', 'm.call#ROOM'])).toMatch(/^[A-Za-z0-9+/]{43}$/);
    expect(lkHash(['a', 'b'])).not.toBe(lkHash(['ab']));
  });
});

describe('MatrixRTC in the renderers', () => {
  const svc = 'https://rtc.example';
  const findings = [
    rtcFinding('RTC-1', null, { status: 'pass', summary: 'advertised', evidence: {} }),
    rtcFinding('RTC-7', svc, { status: 'fail', cause: 'udp-blocked', path: 'udp', severity: 'high', summary: 'UDP media does not get through', evidence: {} }),
    { ...finding('DATA-1', { status: 'pass', summary: 'relayed', uri: 'turn:sfu.example:3478?transport=udp', family: 'ipv4', evidence: {} }), scope: 'rtc' as const, rtc: svc },
  ];
  const transports = [{ serviceUrl: svc, sfuUrl: 'wss://sfu.example', grade: 'Good' as const, iceServers: [] as string[], paths: { udp: false, tcp: true, relay: false } }];
  const rtcReport = (more: typeof findings) => buildReport({ startedAt: new Date(), durationMs: 1, source: { kind: 'homeserver', homeserver: 'https://hs.example' }, targets: [], findings: [...findings, ...more], quality: [], toolVersion: 't', rtc: transports });
  const report = rtcReport([]);

  test('the MatrixRTC grade stands beside IPv4 and IPv6 when the run tested TURN too', () => {
    // The same findings plus one from the homeserver's TURN part.
    const both = rtcReport([finding('HS-1', { status: 'pass', summary: 'turnServer answered', evidence: {} })]);
    expect(renderText(both, { color: false })).toMatch(/IPv4: \S+ +IPv6: \S+ +MatrixRTC: Good/);
    expect(renderPlain(both)).toMatch(/: Fail \(IPv4 Fail; IPv6 Fail; MatrixRTC Good\)/);
    expect(renderMarkdown(both)).toContain('**IPv4** Fail · **IPv6** Fail · **MatrixRTC** Good');
  });

  test('a MatrixRTC-only run (--only rtc) shows no TURN family grades: its grade is the MatrixRTC one', () => {
    const text = renderText(report, { color: false });
    expect(text).toMatch(/Overall: Good +MatrixRTC: Good/);
    const plain = renderPlain(report);
    expect(plain).toMatch(/^VoIP check of https:\/\/hs\.example: Good \(MatrixRTC Good\)\./);
    for (const out of [text, plain, renderMarkdown(report)]) expect(out).not.toMatch(/IPv4|IPv6|nothing is published/);
  });

  test('its problems are in Fix first, named by transport', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('**MatrixRTC** Good');
    expect(md).toMatch(/Fix first[\s\S]*RTC-7[\s\S]*MatrixRTC https:\/\/rtc\.example/);
    expect(md).toMatch(/\| https:\/\/rtc\.example \| Good \| tcp \|/);
    expect(md).toMatch(/#### MatrixRTC https:\/\/rtc\.example \\?\(SFU wss:\/\/sfu\.example\\?\): Good/);
    expect(md).not.toContain('| Server | IPv4 | IPv6 | Problem |'); // no TURN server was tested
    expect(renderPlain(report)).toContain('MatrixRTC Good');
  });

  test("a critical finding on LiveKit's TURN caps the MatrixRTC grade shown, not the homeserver's TURN families", () => {
    const turnOk = (family: 'ipv4' | 'ipv6') => ({ uri: 'turns:turn.example:443?transport=tcp', scheme: 'turns' as const, transport: 'tls' as const, family, port: 443, address: family === 'ipv4' ? '192.0.2.1' : '2001:db8::1', stunWorks: false, turnWorks: true, relayedAddress: null, timingsMs: {} });
    const lkAcl = { ...finding('ACL-1', { status: 'fail', severity: 'critical', summary: 'relays to 127.0.0.1', uri: 'turn:sfu.example:3478?transport=udp', family: 'ipv4', evidence: {} }), scope: 'rtc' as const, rtc: svc };
    const r = buildReport({ startedAt: new Date(), durationMs: 1, source: { kind: 'homeserver', homeserver: 'https://hs.example' }, targets: [turnOk('ipv4'), turnOk('ipv6')], findings: [...findings, lkAcl], quality: [], toolVersion: 't', rtc: [{ ...transports[0]!, grade: 'Great' as const }] });
    const md = renderMarkdown(r);
    expect(md).toContain('**MatrixRTC** Great, capped at Poor by ACL-1');
    expect(md).not.toMatch(/\*\*IPv[46]\*\* [A-Za-z]+, capped/);
  });

  test("LiveKit's TURN servers are shown under their transport, not as the homeserver's TURN servers", () => {
    const md = renderMarkdown(report);
    const servers = md.slice(md.indexOf('### Servers'), md.indexOf('### Details'));
    expect(servers).not.toContain('turn:sfu.example');
    expect(md.slice(md.indexOf('#### MatrixRTC https'))).toContain('turn:sfu.example:3478');
  });
});

describe('MatrixRTC front door (CLI)', () => {
  const hs = ['--homeserver', 'https://matrix.example.org', '--access-token', 'T'];
  test('--only rtc runs only the RTC checks; --rtc and --livekit-service-url force them', () => {
    expect(parseCheckArgs([...hs, '--only', 'rtc']).options.rtc).toMatchObject({ force: true, only: true });
    expect(parseCheckArgs([...hs, '--only', 'RTC-5']).options).toMatchObject({ only: ['RTC-5'], rtc: { only: true } });
    expect(parseCheckArgs([...hs, '--rtc']).options.rtc).toMatchObject({ force: true, only: false });
    expect(parseCheckArgs([...hs, '--livekit-service-url', 'https://rtc.example.org']).options.rtc).toMatchObject({ force: true, serviceUrl: 'https://rtc.example.org' });
    expect(parseCheckArgs(hs).options.rtc).toMatchObject({ force: false, only: false });
  });
  test('a bad service URL is refused, naming the option', () => {
    expect(() => parseCheckArgs([...hs, '--livekit-service-url', 'ftp://x'])).toThrow(UsageError);
    expect(() => parseCheckArgs([...hs, '--livekit-service-url', 'ftp://x'])).toThrow(/--livekit-service-url/);
  });
});
