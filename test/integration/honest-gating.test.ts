// Issue 11 items 2 and 3 on real coturn (loopback): a failure gates only what
// needs its result, and the tester never reports its own load as the server's
// fault. A coturn that ignores STUN Binding (no-stun) but allocates is graded
// on its TURN; a coturn with user-quota=1 and 8 URIs (both families, UDP, TCP,
// TLS) grades every URI on what it does, with one ALLOC-4 warning naming the
// one allocation the server allows, and no AUTH-2 failure.
import { startCoturn, type CoturnLab } from '../../scripts/lab';
import type { CredentialSpec } from '../../src/tester/credentials/types';
import { runCheck } from '../../src/tester/engine';
import { SECURITY_CHECKS } from '../../src/tester/checks';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../../src/tester/options';
import type { Report } from '../../src/tester/report';
import { Secret } from '../../src/tester/secret';

jest.setTimeout(120_000);

const LOOPBACK_PUBLIC = ['127.0.0.0/8', '::1/128'];

function options(c: CoturnLab, uris: string[], extra: Partial<CheckOptions> = {}): CheckOptions {
  const credentials: CredentialSpec = { kind: 'secret', uris, secret: new Secret(c.secret!) };
  return { ...DEFAULT_CHECK_OPTIONS, credentials, allowPrivate: true, assumePublic: LOOPBACK_PUBLIC, ca: [c.caPem!], quality: 'off', e2e: false, timeoutMs: 30_000, ...extra };
}

// The lab's loopback coturn lets its relay reach loopback (the lab's peers): security findings are expected and not the point here.
const fails = (r: Report) => r.checks.filter((c) => c.status === 'fail' && !SECURITY_CHECKS.includes(c.id)).map((c) => `${c.id}/${c.cause ?? '-'} ${c.uri ?? ''} ${c.family ?? ''}`.trim());
const of = (r: Report, id: string) => r.checks.filter((c) => c.id === id);

describe('honest gating on real coturn', () => {
  let noStun: CoturnLab;
  let quota: CoturnLab;
  beforeAll(async () => {
    [noStun, quota] = await Promise.all([startCoturn({ tls: true, extra: ['no-stun'] }), startCoturn({ tls: true, extra: ['user-quota=1'] })]);
  });
  afterAll(async () => {
    await Promise.all([noStun?.stop(), quota?.stop()]);
  });

  test('a server that ignores STUN Binding but allocates: reachable, its TURN URIs tested and graded on what they do', async () => {
    const u = noStun.uris('127.0.0.1');
    const r = await runCheck(options(noStun, [u.stun, u.turnUdp, u.turnTcp, u.turns!], { family: 'ipv4' }));
    // No network verdict: the port answered Allocate.
    expect(of(r, 'NET-1').map((c) => [c.uri, c.status])).toEqual([u.stun, u.turnUdp, u.turnTcp, u.turns!].map((x) => [x, 'pass']));
    expect(of(r, 'NET-1').find((c) => c.uri === u.turnUdp)!.evidence).toMatchObject({ answered: ['Allocate'], unanswered: ['Binding'] });
    const stun = of(r, 'STUN-1');
    expect(stun.find((c) => c.uri === u.turnUdp)).toMatchObject({ status: 'fail', cause: 'binding-ignored' });
    expect(stun.find((c) => c.uri === u.turnUdp)!.hint).toMatch(/no-stun/);
    // TURN is measured, and works, on every TURN URI.
    for (const x of [u.turnUdp, u.turnTcp, u.turns!]) {
      expect([x, of(r, 'AUTH-2').find((c) => c.uri === x)?.status, of(r, 'DATA-1').find((c) => c.uri === x)?.status]).toEqual([x, 'pass', 'pass']);
    }
    const grade = (x: string) => r.uris.find((y) => y.uri === x)!;
    // turn: over UDP without STUN is Poor ("only TURN where STUN was expected"); over TCP/TLS, TURN alone is the job.
    expect([grade(u.turnUdp).grade, grade(u.turnUdp).firstFailure]).toEqual(['Poor', 'STUN-1']);
    expect([grade(u.turnTcp).grade, grade(u.turnTcp).firstFailure]).toEqual(['Excellent', null]);
    expect([grade(u.turns!).grade, grade(u.turns!).firstFailure]).toEqual(['Excellent', null]);
    expect(grade(u.stun).grade).toBe('Fail');
    expect(fails(r).filter((f) => !f.startsWith('STUN-1/'))).toEqual([]);
  });

  test('user-quota=1 with 8 URIs, both families, UDP/TCP/TLS: every URI grades on what it does, one ALLOC-4 warning', async () => {
    const v4 = quota.uris('127.0.0.1');
    const v6 = quota.uris('::1');
    // localhost names both families; the IPv6 TLS URI by its literal (the lab certificate covers ::1).
    const uris = [v4.stun, v4.turnUdp, v4.turnTcp, v4.turns!, v6.stun, v6.turnUdp, v6.turnTcp, v4.turns!.replace('localhost', '[::1]')];
    const t0 = performance.now();
    const r = await runCheck(options(quota, uris));
    const wallMs = performance.now() - t0;
    expect(fails(r)).toEqual([]);
    expect(new Set(r.uris.map((x) => x.uri)).size).toBe(8);
    for (const x of r.uris) expect([x.uri, x.family, x.grade, x.firstFailure]).toEqual([x.uri, x.family, 'Excellent', null]);
    for (const c of of(r, 'AUTH-2')) expect([c.uri, c.status]).toEqual([c.uri, 'pass']);
    for (const c of of(r, 'DATA-1')) expect([c.uri, c.family, c.status]).toEqual([c.uri, c.family, 'pass']);
    const quotaWarnings = r.checks.filter((c) => c.status === 'warn' && c.cause === 'quota');
    expect(quotaWarnings.map((c) => c.id)).toEqual(['ALLOC-4']);
    expect(quotaWarnings[0]!.evidence).toMatchObject({ allowed: 1 });
    expect(quotaWarnings[0]!.summary).toMatch(/allows one user 1 allocation/);
    // Our own second allocation (DATA-2) is not the server's fault either: a skip, never a fail.
    for (const c of of(r, 'DATA-2')) expect([c.uri, c.status]).toEqual([c.uri, 'skip']);
    expect(wallMs).toBeLessThan(30_000);
  });
});
