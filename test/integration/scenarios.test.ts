// The scenario lab under jest: one test per scenario of test/scenarios (a real
// coturn, deliberately misconfigured, or a broken network, in a namespace of
// its own), each judged on its expected first causes, grades and findings.
// All scenarios start in beforeAll (a few at a time); each test awaits its own.
// The accuracy table is written to test-artifacts/scenarios.txt.
import { mkdirSync, writeFileSync } from 'node:fs';
import { toJson, type Report } from '../../src/tester/report';
import { SCENARIOS } from '../scenarios';
import { countExpectedTargets, expectedCauseFor, judge } from '../scenarios/judge';
import type { Scenario, UriKind } from '../scenarios/types';
import { PENDING_CHECKS } from '../scenarios/pending';
import { openScenarioLab, type Outcome, type ScenarioLab } from '../scenarios/runner';
import { renderTable } from '../scenarios/table';

jest.setTimeout(180_000);

const isRoot = process.getuid?.() === 0;
const pendingStatically = (needs: readonly string[] | undefined) => (needs ?? []).filter((id) => (PENDING_CHECKS as readonly string[]).includes(id));

(isRoot ? describe : describe.skip)('scenario lab', () => {
  let lab: ScenarioLab | undefined;
  let started: Map<string, Promise<Outcome>> = new Map();
  const t0 = performance.now();

  beforeAll(async () => {
    lab = await openScenarioLab(SCENARIOS);
    started = lab.start({ concurrency: 3 });
  });

  afterAll(async () => {
    const outcomes = await Promise.all([...started.values()]);
    await lab?.close();
    if (outcomes.length) {
      mkdirSync('test-artifacts', { recursive: true });
      writeFileSync('test-artifacts/scenarios.txt', `${renderTable(outcomes, performance.now() - t0)}\n`);
      // The full (redacted) report of every scenario not diagnosed right, to see why.
      for (const o of outcomes.filter((x) => x.judgement?.verdict !== 'pass' && x.report)) {
        writeFileSync(`test-artifacts/scenario-${o.scenario.name}.json`, toJson(o.report!));
      }
    }
  });

  for (const s of SCENARIOS) {
    const waits = pendingStatically(s.needs);
    if (waits.length) test.todo(`${s.name}: waits for ${waits.join(', ')}`);
    test(`${s.name}: ${s.title}`, async () => {
      const o = await started.get(s.name)!;
      if (o.error) throw new Error(`${s.name} could not run: ${o.error}`);
      const wrong = o.judgement!.items.filter((i) => i.state === 'wrong');
      // One readable message listing every wrong expectation.
      expect(wrong.map((i) => `${i.what}: expected ${i.expected}, got ${i.actual}`)).toEqual([]);
      if (!waits.length) expect(o.judgement!.verdict).toBe('pass');
    });
  }
});

// The judge itself (pure): a wrong cause is wrong, a missing pending check is
// pending (never passed), a landed one is judged.
describe('scenario judge', () => {
  const scenario: Scenario = {
    name: 't',
    title: 't',
    server: { kind: 'nothing' },
    credentials: 'secret',
    uris: ['turn-udp'],
    family: 'ipv4',
    dns: { a: true, aaaa: false },
    needs: ['ACL-1'],
    expect: { firstCause: { '*': { id: 'DATA-1', cause: 'inbound-missing' } }, grade: { overall: 'Poor' }, findings: [{ id: 'ACL-1', status: 'fail' }] },
  };
  const uri = 'turn:turn.lab.test:3478?transport=udp';
  const kinds = new Map<string, UriKind>([[uri, 'turn-udp']]);
  const report = (cause: string, extra: Report['checks'] = []): Report =>
    ({
      grade: { overall: 'Poor', ipv4: 'Poor', ipv6: 'Fail', whyNotHigher: [] },
      security: { verdict: 'ok', findings: [] },
      durationMs: 10,
      uris: [{ uri, family: 'ipv4', firstFailure: 'DATA-1' }],
      checks: [{ id: 'DATA-1', uri, family: 'ipv4', status: 'fail', severity: 'high', summary: '', evidence: {}, hint: null, cause }, ...extra],
    }) as unknown as Report;

  test('a missing pending check makes the scenario pending, not passed', () => {
    const j = judge(scenario, report('inbound-missing'), kinds, ['ACL-1']);
    expect(j.verdict).toBe('pending');
    expect(j.waitingFor).toEqual(['ACL-1']);
  });
  test('a wrong cause fails even while other checks are pending', () => {
    const j = judge(scenario, report('outbound-missing'), kinds, ['ACL-1']);
    expect(j.verdict).toBe('fail');
    expect(j.items.find((i) => i.state === 'wrong')!.what).toBe('first cause turn-udp/ipv4');
  });
  test('once the check lands it is judged, and the landing is reported', () => {
    const acl = { id: 'ACL-1', uri, family: 'ipv4', status: 'fail', severity: 'critical', summary: '', evidence: {}, hint: null } as Report['checks'][number];
    expect(judge(scenario, report('inbound-missing', [acl]), kinds, ['ACL-1'])).toMatchObject({ verdict: 'pass', landed: ['ACL-1'] });
    expect(judge(scenario, report('inbound-missing'), kinds, []).verdict).toBe('fail');
  });
  test('first-cause keys: most specific wins', () => {
    const map = { '*': null, 'turns/*': { id: 'TLS-1' as const }, '*/ipv6': { id: 'NET-1' as const } };
    expect(expectedCauseFor(map, 'turns', 'ipv6')).toEqual({ id: 'TLS-1' });
    expect(expectedCauseFor(map, 'stun', 'ipv6')).toEqual({ id: 'NET-1' });
    expect(expectedCauseFor(map, 'stun', 'ipv4')).toBeNull();
  });
  test('every scenario is well-formed: unique names, targets to test, a grade', () => {
    expect(new Set(SCENARIOS.map((x) => x.name)).size).toBe(SCENARIOS.length);
    for (const x of SCENARIOS) expect([x.name, countExpectedTargets(x) > 0]).toEqual([x.name, true]);
  });
});
