// ACL-1..5, ALLOC-4 and AUTH-5 judgements (pure logic).
import { ACL_PROBES, judgeAcl, judgeControl, type PermissionOutcome } from '../../src/tester/probes/peer-acl';
import { judgeQuota } from '../../src/tester/probes/allocation-quota';
import { judgeRealms } from '../../src/tester/probes/realm-consistency';
import { parseIceUri as parseUri } from '../../src/tester/uri';

const scope = { uri: 'turn:192.0.2.1', family: 'ipv4' as const };
const v4 = { family: 'ipv4' as const, label: 'The IPv4 relay' };
const v6 = { family: 'ipv6' as const, label: 'The IPv6 relay' };
const denied = (address: string, code = 403): PermissionOutcome => ({ address, outcome: 'denied', code });
const accepted = (address: string): PermissionOutcome => ({ address, outcome: 'accepted' });

describe('ACL table', () => {
  test('the addresses of CHECKS.md, each in its family', () => {
    const of = (id: string, fam: string) => ACL_PROBES.filter((p) => p.id === id && p.family === fam).map((p) => p.address);
    expect(of('ACL-1', 'ipv4')).toEqual(['127.0.0.1', '0.0.0.0']);
    expect(of('ACL-1', 'ipv6')).toEqual(['::1', '::']);
    expect(of('ACL-2', 'ipv4')).toEqual(['169.254.169.254']);
    expect(of('ACL-3', 'ipv4')).toEqual(['10.0.0.1', '172.16.0.1', '192.168.0.1', '100.64.0.1']);
    expect(of('ACL-3', 'ipv6')).toEqual(['fc00::1']);
    expect(of('ACL-4', 'ipv4')).toEqual([]);
    expect(of('ACL-4', 'ipv6')).toEqual(['::ffff:127.0.0.1', '64:ff9b::a9fe:a9fe']);
  });
});

describe('ACL judgement', () => {
  test('all denied: pass (403 and 443 both count)', () => {
    expect(judgeAcl('ACL-1', [denied('127.0.0.1'), denied('0.0.0.0')], scope, v4).status).toBe('pass');
    expect(judgeAcl('ACL-4', [denied('::ffff:127.0.0.1', 443), denied('64:ff9b::a9fe:a9fe', 443)], scope, v6).status).toBe('pass');
  });

  test('accepted: fail with the severity of the check', () => {
    const f1 = judgeAcl('ACL-1', [denied('127.0.0.1'), accepted('0.0.0.0')], scope, v4);
    expect(f1).toMatchObject({ status: 'fail', severity: 'critical', cause: 'loopback-allowed' });
    expect(f1.evidence.accepted).toEqual(['0.0.0.0']);
    expect(judgeAcl('ACL-2', [accepted('169.254.169.254')], scope, v4)).toMatchObject({ severity: 'critical', cause: 'link-local-allowed' });
    const f3 = judgeAcl('ACL-3', [accepted('10.0.0.1'), denied('172.16.0.1')], scope, v4);
    expect(f3).toMatchObject({ severity: 'high', cause: 'private-allowed' });
    expect(f3.hint).toContain('denied-peer-ip');
  });

  test('ACL-4: mapped is critical, NAT64 alone is high', () => {
    expect(judgeAcl('ACL-4', [accepted('::ffff:127.0.0.1'), accepted('64:ff9b::a9fe:a9fe')], scope, v6)).toMatchObject({ severity: 'critical', cause: 'mapped-allowed' });
    expect(judgeAcl('ACL-4', [denied('::ffff:127.0.0.1'), accepted('64:ff9b::a9fe:a9fe')], scope, v6)).toMatchObject({ severity: 'high', cause: 'nat64-allowed' });
  });

  test('no answer and nothing accepted: skip, never pass', () => {
    const f = judgeAcl('ACL-3', [denied('10.0.0.1'), { address: '172.16.0.1', outcome: 'no-answer', error: 'timeout' }], scope, v4);
    expect(f.status).toBe('skip');
  });

  test('positive control', () => {
    expect(judgeControl(accepted('198.51.100.7'), scope, v4).status).toBe('pass');
    expect(judgeControl(denied('198.51.100.7'), scope, v4)).toMatchObject({ status: 'warn', cause: 'control-denied' });
    expect(judgeControl(null, scope, v6).status).toBe('skip');
    // A tester on a private address (a bot beside coturn): a denial is right, not an accusation.
    expect(judgeControl(denied('10.1.2.3'), scope, v4, false)).toMatchObject({ status: 'skip', evidence: { reason: 'own-address-private' } });
    expect(judgeControl(accepted('10.1.2.3'), scope, v4, false).status).toBe('pass');
    expect(judgeControl({ address: 'x', outcome: 'no-answer', error: 'timeout' }, scope, v4).status).toBe('skip');
  });
});

describe('ALLOC-4 judgement', () => {
  const s = { uri: 'turn:192.0.2.1', family: null };
  test('three granted: pass; 486: warn naming which; other error: skip', () => {
    expect(judgeQuota({ granted: 3, quotaAt: null, error: null }, s).status).toBe('pass');
    const w = judgeQuota({ granted: 1, quotaAt: 2, error: null }, s);
    expect(w).toMatchObject({ status: 'warn', cause: 'quota' });
    expect(w.summary).toContain('allocation 2 of 3');
    expect(w.summary).toContain('allows one user 1 allocation(s) at once');
    expect(w.evidence.allowed).toBe(1);
    expect(w.hint).toContain('user-quota');
    expect(judgeQuota({ granted: 2, quotaAt: null, error: 'no answer' }, s).status).toBe('skip');
  });
});

describe('AUTH-5 judgement', () => {
  const state = (raw: string, family: 'ipv4' | 'ipv6', address: string) => ({ target: { uri: parseUri(raw), family, address }, scope: { uri: parseUri(raw).raw, family } });
  test('info without an expected realm; warn on mismatch; warn when one host disagrees with itself', () => {
    const a = state('turn:turn.example.org', 'ipv4', '192.0.2.1');
    const b = state('turn:turn.example.org', 'ipv6', '2001:db8::1');
    expect(judgeRealms([{ s: a, realm: 'example.org' }], undefined)[0].status).toBe('info');
    expect(judgeRealms([{ s: a, realm: 'example.org' }], 'example.org')[0].status).toBe('pass');
    const m = judgeRealms([{ s: a, realm: 'other' }], 'example.org')[0];
    expect(m).toMatchObject({ status: 'warn', cause: 'realm-mismatch' });
    expect(m.hint).toContain('turn.example.org');
    const both = judgeRealms([{ s: a, realm: 'one' }, { s: b, realm: 'two' }], undefined);
    expect(both.map((f) => f.cause)).toEqual(['inconsistent', 'inconsistent']);
  });
});
