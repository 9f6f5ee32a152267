import { gradeTarget, gradeFamily, score, securityVerdict, firstFailure, GATE_ORDER } from '../../src/tester/score';
import { finding } from '../../src/tester/probes/finding';
import type { Finding, TargetResult } from '../../src/tester/types';
import { sampleFindings, sampleTargets } from '../fixtures/report-sample';

function t(uri: string, p: Partial<TargetResult> = {}): TargetResult {
  const scheme = uri.startsWith('turns:') ? 'turns' : uri.startsWith('turn:') ? 'turn' : 'stun';
  const transport = scheme === 'turns' ? 'tls' : /transport=tcp/.test(uri) ? 'tcp' : 'udp';
  const port = Number(/:(\d+)/.exec(uri.replace(/^\w+:/, ''))?.[1] ?? (scheme === 'turns' ? 5349 : 3478));
  return { uri, scheme, transport, family: 'ipv4', port, address: '192.0.2.1', stunWorks: false, turnWorks: false, relayedAddress: null, timingsMs: {}, ...p } as TargetResult;
}

describe('gradeTarget (per URI x family)', () => {
  it.each([
    ['turn:h?transport=udp', { stunWorks: true, turnWorks: true }, 'Excellent'],
    ['turn:h?transport=udp', { stunWorks: true, turnWorks: false }, 'Poor'],
    ['turn:h?transport=udp', { stunWorks: false, turnWorks: true }, 'Poor'],
    ['turn:h?transport=udp', {}, 'Fail'],
    ['turn:h?transport=tcp', { turnWorks: true }, 'Excellent'],
    ['turn:h?transport=tcp', { stunWorks: true }, 'Fail'],
    ['turns:h:443?transport=tcp', { turnWorks: true }, 'Excellent'],
    ['turns:h', {}, 'Fail'],
    ['stun:h', { stunWorks: true }, 'Excellent'],
    ['stun:h', { turnWorks: true }, 'Fail'],
    ['stun:h', {}, 'Fail'],
  ] as const)('%s %j -> %s', (uri, p, grade) => {
    expect(gradeTarget(t(uri, p))).toBe(grade);
  });
});

describe('gradeFamily', () => {
  const stun = t('stun:h', { stunWorks: true });
  const udp = t('turn:h?transport=udp', { stunWorks: true, turnWorks: true });
  const tcp = t('turn:h?transport=tcp', { turnWorks: true });
  const tls5349 = t('turns:h:5349?transport=tcp', { turnWorks: true });
  const tls443 = t('turns:h:443?transport=tcp', { turnWorks: true });

  it('Fail with nothing working', () => {
    expect(gradeFamily('ipv4', [t('turn:h')], []).grade).toBe('Fail');
  });
  it('Poor with only STUN or only TURN', () => {
    expect(gradeFamily('ipv4', [stun], []).grade).toBe('Poor');
    expect(gradeFamily('ipv4', [tcp], []).grade).toBe('Poor');
  });
  it('Good with STUN and TURN', () => {
    expect(gradeFamily('ipv4', [stun, tcp], []).grade).toBe('Good');
    expect(gradeFamily('ipv4', [udp], []).grade).toBe('Good');
  });
  it('Great with TURN over TLS', () => {
    expect(gradeFamily('ipv4', [udp, tls5349], []).grade).toBe('Great');
  });
  it('Excellent with turns: on TCP 443 (port compared as a number)', () => {
    const r = gradeFamily('ipv4', [udp, tls443], []);
    expect(r.grade).toBe('Excellent');
    expect(r.why).toEqual([]);
    expect(gradeFamily('ipv4', [udp, { ...tls443, port: '443' as unknown as number }], []).grade).toBe('Excellent');
  });
  it('counts only measured results, not advertised URIs', () => {
    expect(gradeFamily('ipv4', [t('turn:h?transport=udp'), t('turns:h:443?transport=tcp')], []).grade).toBe('Fail');
    expect(gradeFamily('ipv4', [udp, t('turns:h:443?transport=tcp')], []).grade).toBe('Good');
  });
  it('STUN over TCP does not count as STUN', () => {
    expect(gradeFamily('ipv4', [t('turn:h?transport=tcp', { stunWorks: true, turnWorks: true })], []).grade).toBe('Poor');
  });
  it('says what lifts the grade', () => {
    const r = gradeFamily('ipv4', [udp], []);
    expect(r.why.map((w) => w.check)).toEqual(['ALLOC-3', 'ALLOC-3']);
    expect(r.why[0]!.text).toMatch(/turns:.*Great/);
    expect(r.why[1]!.text).toMatch(/443.*Excellent/);
  });
  it('names the first failing gate that held it down', () => {
    const f = [finding('TLS-1', { status: 'fail', severity: 'high', cause: 'expired', uri: 'turns:h:443?transport=tcp', family: 'ipv4', summary: 'expired' })];
    const r = gradeFamily('ipv4', [udp, t('turns:h:443?transport=tcp')], f);
    expect(r.grade).toBe('Good');
    expect(r.why.map((w) => w.check)).toEqual(['TLS-1', 'TLS-1']);
  });
  it('explains a family with nothing published', () => {
    const r = gradeFamily('ipv6', [udp], []);
    expect(r.grade).toBe('Fail');
    expect(r.why[0]).toMatchObject({ check: 'DNS-1', family: 'ipv6' });
    expect(r.why[0]!.text).toMatch(/nothing is published for IPv6.*AAAA/);
  });
  it('explains an untested family', () => {
    expect(gradeFamily('ipv6', [], [], false).why[0]!.text).toMatch(/not tested/);
  });
  it('looks only at its own family', () => {
    expect(gradeFamily('ipv6', [udp, { ...tls443, family: 'ipv6' }], []).grade).toBe('Poor');
  });
});

describe('firstFailure', () => {
  const uri = 'turn:h?transport=udp';
  const fail = (id: Finding['id'], family: 'ipv4' | 'ipv6' | null = 'ipv4'): Finding => finding(id, { status: 'fail', severity: 'high', uri, family, summary: id });
  it('follows the gate order table', () => {
    expect([...new Set(GATE_ORDER.map((g) => g.id))]).toEqual(['DNS-1', 'NET-1', 'TLS-1', 'TLS-2', 'STUN-1', 'AUTH-2', 'ALLOC-1', 'DATA-1', 'E2E-1']);
    expect(firstFailure(t(uri), [fail('DATA-1'), fail('AUTH-2')])).toBe('AUTH-2');
    expect(firstFailure(t(uri), [fail('E2E-1'), fail('DNS-1', null)])).toBe('DNS-1');
  });
  it('on TCP/TLS, STUN-1 is a gate only when the port does not speak STUN', () => {
    const tcp = 'turn:h?transport=tcp';
    const tt = t(tcp, { transport: 'tcp' });
    const f = (cause: string): Finding => finding('STUN-1', { status: 'fail', severity: 'high', uri: tcp, family: 'ipv4', cause, summary: cause });
    expect(firstFailure(tt, [f('not-stun')])).toBe('STUN-1');
    expect(firstFailure(tt, [f('auth-required')])).toBeNull();
  });
  it('ignores other families, other URIs, warns and gates that do not apply', () => {
    expect(firstFailure(t(uri), [fail('NET-1', 'ipv6')])).toBeNull();
    expect(firstFailure(t(uri), [{ ...fail('NET-1'), uri: 'turn:other' }])).toBeNull();
    expect(firstFailure(t(uri), [{ ...fail('NET-1'), status: 'warn' }])).toBeNull();
    expect(firstFailure(t(uri), [fail('TLS-1')])).toBeNull();
    const tcp = 'turn:h?transport=tcp';
    expect(firstFailure(t(tcp), [{ ...fail('STUN-1'), uri: tcp }])).toBeNull();
  });
});

describe('security verdict and overall', () => {
  const udp = t('turn:h?transport=udp', { stunWorks: true, turnWorks: true });
  const tls443 = t('turns:h:443?transport=tcp', { turnWorks: true });
  it('ok / warn / unsafe', () => {
    expect(securityVerdict([])).toEqual({ verdict: 'ok', findings: [] });
    expect(securityVerdict([finding('SEC-1', { status: 'warn', severity: 'low', summary: 'v' })])).toEqual({ verdict: 'warn', findings: ['SEC-1'] });
    expect(securityVerdict([finding('ACL-3', { status: 'fail', severity: 'high', summary: 'x' })]).verdict).toBe('warn');
    expect(securityVerdict([finding('ACL-1', { status: 'fail', severity: 'critical', summary: 'x' }), finding('ACL-1', { status: 'fail', severity: 'critical', summary: 'y' })])).toEqual({ verdict: 'unsafe', findings: ['ACL-1'] });
    expect(securityVerdict([finding('DATA-1', { status: 'fail', severity: 'critical', summary: 'x' })]).verdict).toBe('ok');
  });
  it('a critical security finding caps overall at Poor', () => {
    const r = score([udp, tls443], [finding('AUTH-1', { status: 'fail', severity: 'critical', cause: 'open-relay', summary: 'open' })]);
    expect(r.grade.ipv4).toBe('Excellent');
    expect(r.grade.overall).toBe('Poor');
    expect(r.grade.whyNotHigher[0]).toMatchObject({ check: 'AUTH-1' });
    expect(r.security.verdict).toBe('unsafe');
  });
  it('does not raise a Fail to Poor', () => {
    expect(score([], [finding('AUTH-1', { status: 'fail', severity: 'critical', summary: 'open' })]).grade.overall).toBe('Fail');
  });
  it('overall = IPv4 grade; IPv6 beside it', () => {
    const r = score([udp, tls443], []);
    expect(r.grade).toMatchObject({ ipv4: 'Excellent', ipv6: 'Fail', overall: 'Excellent' });
    expect(r.grade.whyNotHigher.every((w) => w.family === 'ipv6')).toBe(true);
  });
  it('an IPv6-only run is judged on IPv6', () => {
    const r = score([{ ...udp, family: 'ipv6' }], [], { families: ['ipv6'] });
    expect(r.grade.overall).toBe('Good');
    expect(r.grade.ipv4).toBe('Fail');
  });
  it('grades the sample', () => {
    const r = score(sampleTargets(), sampleFindings());
    expect(r.grade).toMatchObject({ ipv4: 'Great', ipv6: 'Fail', overall: 'Great' });
    expect(r.targets.map((x) => x.grade)).toEqual(['Poor', 'Fail', 'Excellent', 'Excellent']);
    expect(r.targets.map((x) => x.firstFailure)).toEqual(['DATA-1', 'NET-1', null, null]);
    expect(r.security).toEqual({ verdict: 'warn', findings: ['ACL-3', 'SEC-1'] });
  });
});
