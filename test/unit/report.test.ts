import { buildReport, redact, toJson, rankProblems } from '../../src/tester/report';
import { CHECK_IDS } from '../../src/tester/checks';
import { Secret } from '../../src/tester/secret';
import type { ReportLike } from '../../src/store/report-shape';
import { HOSTILE, hostileReport, sampleInput, sampleReport } from '../fixtures/report-sample';

describe('buildReport', () => {
  const r = sampleReport();
  it('has exactly the schema 1 top-level shape', () => {
    expect(Object.keys(r).sort()).toEqual(['checks', 'durationMs', 'grade', 'quality', 'schema', 'security', 'source', 'startedAt', 'tool', 'uris'].sort());
    expect(r.schema).toBe(1);
    expect(r.tool).toEqual({ name: 'mx-voiptest', version: '0.1.0' });
    expect(r.startedAt).toBe('2025-06-22T08:00:00.000Z');
    expect(r.durationMs).toBe(4321);
    expect(r.source).toEqual({ kind: 'homeserver', homeserver: 'https://matrix.example.org' });
    expect(r.grade).toMatchObject({ ipv4: 'Great', ipv6: 'Fail', overall: 'Great' });
    expect(r.security.verdict).toBe('warn');
  });
  it('has uri entries with grade, firstFailure, address, relayedAddress, timings', () => {
    expect(r.uris[0]).toEqual({
      uri: 'turn:turn.example.org?transport=udp',
      transport: 'udp',
      family: 'ipv4',
      address: '192.0.2.10:3478',
      grade: 'Poor',
      firstFailure: 'DATA-1',
      relayedAddress: '192.0.2.10:50123',
      timingsMs: { dns: 12, connect: 0, allocate: 21, data: 3000 },
    });
    expect(r.uris[1]!.address).toBe('[2001:db8::10]:3478');
  });
  it('sorts checks in catalogue order, stable within an id', () => {
    const idx = r.checks.map((c) => CHECK_IDS.indexOf(c.id));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    expect(r.checks.filter((c) => c.id === 'DNS-1').map((c) => c.uri)).toEqual(sampleInput().findings.filter((f) => f.id === 'DNS-1').map((f) => f.uri));
  });
  it('checks carry the schema fields (and cause)', () => {
    const c = r.checks.find((x) => x.id === 'DATA-1' && x.status === 'fail')!;
    expect(c).toMatchObject({ uri: 'turn:turn.example.org?transport=udp', family: 'ipv4', status: 'fail', severity: 'high', cause: 'inbound-missing', evidence: { inbound: false, outbound: true } });
    expect(c.hint).toMatch(/49152-65535\/udp/);
  });
  it('quality entries keep their shape', () => {
    expect(r.quality[0]).toMatchObject({ uri: 'turn:turn.example.org?transport=tcp', family: 'ipv4', rttMs: { p50: 24, p95: 31 }, jitterMs: 1.2, lossPct: { up: 0, down: 0 }, goodputKbps: 64 });
  });
  it('is what the history store reads (ReportLike, checked by tsc)', () => {
    const like: ReportLike = r;
    expect(like.checks.length).toBe(r.checks.length);
  });
  it('round-trips through JSON', () => {
    expect(JSON.parse(toJson(r))).toEqual(JSON.parse(JSON.stringify(r)));
  });
  it('omits homeserver when the source has none; survives an invalid date', () => {
    const x = buildReport({ ...sampleInput(), source: { kind: 'explicit' }, startedAt: new Date('nope'), durationMs: -5 });
    expect(x.source).toEqual({ kind: 'explicit' });
    expect(x.startedAt).toBe('1970-01-01T00:00:00.000Z');
    expect(x.durationMs).toBe(0);
  });
});

describe('secrets never reach the report', () => {
  it('redacts by key, Secret instance and URI user info', () => {
    const json = toJson(hostileReport());
    expect(json).not.toContain(HOSTILE.password);
    expect(json).not.toContain(HOSTILE.token);
    expect(json).toContain('"ok": "kept"');
    expect(json).toContain('turn:[redacted]@h.example');
  });
  it('redact handles odd values', () => {
    const circ: Record<string, unknown> = { a: 1 };
    circ.self = circ;
    const out = redact({
      circ,
      big: 10n,
      nan: NaN,
      fn: () => 1,
      undef: undefined,
      when: new Date('2025-01-01T00:00:00Z'),
      buf: Buffer.from('abc'),
      err: new Error('boom'),
      list: [new Secret('x'), 'y'],
      map: new Map([['token', 'z'], ['k', 'v']]),
      Password: 'p',
      turnPassword: 'p',
      accessToken: 't',
      deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } },
    });
    expect(out).toMatchObject({ circ: { a: 1, self: '[circular]' }, big: '10', nan: null, when: '2025-01-01T00:00:00.000Z', buf: '[3 bytes]', err: 'boom', list: [null, 'y'], map: { k: 'v' } });
    expect(out).not.toHaveProperty('fn');
    expect(out).not.toHaveProperty('undef');
    expect(out).not.toHaveProperty('Password');
    expect(out).not.toHaveProperty('turnPassword');
    expect(out).not.toHaveProperty('accessToken');
    expect(JSON.stringify(out)).toContain('[too deep]');
  });
});

describe('rankProblems', () => {
  it('puts fails before warns, then severity', () => {
    const ranked = rankProblems(sampleReport().checks);
    expect(ranked.map((c) => `${c.id}:${c.status}`)).toEqual(['NET-1:fail', 'DATA-1:fail', 'ACL-3:fail', 'DNS-1:warn', 'ALLOC-2:warn', 'TLS-1:warn', 'SEC-1:warn']);
  });
});
