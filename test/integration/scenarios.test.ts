// The scenario lab under jest: one test per scenario of test/scenarios (a real
// coturn, deliberately misconfigured, or a broken network, in a namespace of
// its own), each judged on its expected first causes, grades and findings.
// All scenarios start in beforeAll (a few at a time); each test awaits its own.
// The accuracy table is written to test-artifacts/scenarios.txt.
import { mkdirSync, writeFileSync } from 'node:fs';
import { SCENARIOS } from '../scenarios';
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
