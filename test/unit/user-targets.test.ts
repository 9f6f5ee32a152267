// The policy for targets that come from users: ports, counts, domains, ranges,
// and the report that never tells open from refused from filtered.
import { boundUserTargets, DailyTargets, DEFAULT_USER_TARGET_POLICY, userEngineOptions, userTargetReport, UserTargetRefused } from '../../src/tester/user-targets';
import type { Report } from '../../src/tester/report';
import { sharedTargetKey } from '../../src/store';

const lookup = async (host: string, rr: 'A' | 'AAAA') => ({ addrs: rr === 'A' && host.endsWith('.example.org') ? ['8.8.4.7'] : [] });
const base = { requesterDomain: 'example.org', families: ['ipv4'] as const, lookup, usedToday: new Set<string>() };
const policy = DEFAULT_USER_TARGET_POLICY;

describe('bounding user-shared URIs', () => {
  test('TURN ports and the own deployment\'s ports pass, others are skipped with why', async () => {
    const b = await boundUserTargets({ ...base, policy, ownPorts: [3999], uris: ['turn:turn.example.org:3478', 'turn:turn.example.org:22?transport=tcp', 'turn:turn.example.org:3999', 'nonsense'] });
    expect(b.uris).toEqual(['turn:turn.example.org:3478', 'turn:turn.example.org:3999']);
    expect(b.skipped.map((s) => s.why)).toEqual([expect.stringMatching(/^port 22 is not a TURN port/), 'not a STUN/TURN URI']);
  });
  test('never the admin\'s private ranges; only the policy\'s own', async () => {
    const uris = ['turn:127.0.0.1:3478', 'turn:10.0.0.1:3478'];
    await expect(boundUserTargets({ ...base, policy, uris })).rejects.toThrow(/None of the shared URIs can be tested here: the host is not a public address/);
    const lab = await boundUserTargets({ ...base, policy: { ...policy, allowRanges: ['127.0.0.0/8'] }, uris });
    expect(lab.uris).toEqual(['turn:127.0.0.1:3478']);
    expect(userEngineOptions({ allowPrivate: true, assumePublic: ['10.0.0.0/8'] } as never, policy)).toMatchObject({ allowPrivate: false, assumePublic: [] });
  });
  test('40 URIs: refused above the per-run cap, before any packet', async () => {
    const uris = Array.from({ length: 40 }, (_, i) => `turn:8.8.${i}.1:3478`);
    const e = await boundUserTargets({ ...base, policy, uris }).catch((x) => x);
    expect(e).toBeInstanceOf(UserTargetRefused);
    expect(e.code).toBe('too-many-targets');
    expect(e.message).toMatch(/at most 12 per run/);
  });
  test('per user per day, and hosts within the requester\'s domain', async () => {
    const daily = new DailyTargets(() => new Date('2030-01-01T10:00:00Z'));
    const p = { ...policy, maxPerUserPerDay: 3 };
    const b = await boundUserTargets({ ...base, policy: p, usedToday: daily.used('@a:x'), uris: ['turn:8.8.1.1:3478', 'turn:8.8.1.2:3478'] });
    daily.charge('@a:x', b.targets);
    await expect(boundUserTargets({ ...base, policy: p, usedToday: daily.used('@a:x'), uris: ['turn:8.8.1.3:3478', 'turn:8.8.1.4:3478'] })).rejects.toThrow(/today's limit of 3/);
    // The same targets again cost nothing new.
    await expect(boundUserTargets({ ...base, policy: p, usedToday: daily.used('@a:x'), uris: ['turn:8.8.1.1:3478'] })).resolves.toBeTruthy();
    const d = await boundUserTargets({ ...base, policy: { ...policy, sameDomain: true }, uris: ['turn:turn.example.org:3478', 'turn:8.8.8.8:3478', 'turn:evil.example.org.attacker.net:3478'] });
    expect(d.uris).toEqual(['turn:turn.example.org:3478']);
  });
});

describe('the report on user targets', () => {
  const check = (id: string, uri: string | null, status: string, cause?: string, summary = `${id} said something`) => ({ id, uri, family: 'ipv4', status, severity: null, summary, evidence: { port: 1 }, hint: null, ...(cause ? { cause } : {}) });
  const uri = (u: string) => ({ uri: u, transport: 'tcp', family: 'ipv4', address: '8.8.8.8:80', grade: 'Fail', firstFailure: 'STUN-1', relayedAddress: null, timingsMs: { connect: 3 } });
  test('silent, refused and non-STUN URIs all read "not a TURN server"; a TURN server keeps its findings', () => {
    const report = {
      uris: [uri('turn:a:80?transport=tcp'), uri('turn:b:80?transport=tcp'), uri('turn:c:3478')],
      checks: [
        check('NET-1', 'turn:a:80?transport=tcp', 'pass', undefined, 'TCP port 80 accepts connections.'),
        check('STUN-1', 'turn:a:80?transport=tcp', 'fail', 'not-stun', 'Something that does not speak STUN answers'),
        check('AUTH-1', 'turn:a:80?transport=tcp', 'skip'),
        check('NET-1', 'turn:b:80?transport=tcp', 'fail', 'refused', 'Nothing listens (connection refused).'),
        check('STUN-1', 'turn:b:80?transport=tcp', 'skip', undefined, 'not run: NET-1 failed'),
        check('STUN-1', 'turn:c:3478', 'pass'),
        check('AUTH-1', 'turn:c:3478', 'pass'),
        check('SEC-1', null, 'pass'),
      ],
    } as unknown as Report;
    const r = userTargetReport(report, [{ uri: 'turn:d:22', why: 'port 22 is not a TURN port' }]);
    const text = JSON.stringify(r.checks);
    expect(text).not.toMatch(/accepts connections|refused|Nothing listens|does not speak STUN|filtered/);
    expect(r.checks.filter((c) => c.cause === 'not-turn').map((c) => c.uri)).toEqual(['turn:a:80?transport=tcp', 'turn:b:80?transport=tcp']);
    expect(r.checks.filter((c) => c.uri === 'turn:c:3478').map((c) => c.id)).toEqual(['STUN-1', 'AUTH-1']);
    expect(r.uris[0]!.timingsMs).toEqual({});
    expect(r.checks.at(-1)).toMatchObject({ uri: 'turn:d:22', summary: 'Not tested: port 22 is not a TURN port.' });
  });
});

test('a shared run\'s key (shown in "history") carries no credentials or query parameters', () => {
  expect(sharedTargetKey('@u:x', ['turn:h:3478?transport=udp&password=s3cret', 'turn:a:3478'])).toBe('shared:@u:x turn:a:3478 turn:h:3478?transport=udp');
});
