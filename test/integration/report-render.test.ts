// The report as a person reads it: real scenario-lab runs (a real coturn with
// one deliberate fault each, in a network namespace), turned into the room
// message and its thread (threadedReport, what the bot sends), laid out in
// headless Chromium at a desktop width as a client shows formatted_body
// (nothing folded). The room message stays short (about 25 lines, 2,000
// characters of plain body) and names the scenario's fault in the first
// screen. Screenshots in test-artifacts/; test-artifacts/report.png is the
// README's picture (MXV_UPDATE_DOCS=1 copies it to docs/report.png;
// scripts/docs.ts --screenshot takes the same picture without jest).
import { copyFileSync, mkdirSync } from 'node:fs';
import { threadedReport } from '../../src/render';
import { checkTitle } from '../../src/render/view';
import { SCENARIOS } from '../scenarios';
import { openScenarioLab, type Outcome, type ScenarioLab } from '../scenarios/runner';
import { openChatBrowser, type ChatBrowser } from '../support/chat-page';

jest.setTimeout(180_000);

const isRoot = process.getuid?.() === 0;
/** One fault each; the first one is the README's picture. */
const ONE_FAULT = ['relay-range-blocked', 'loopback-peers', 'open-relay'] as const;
const MAX_LINES = 25;
const MAX_BODY = 2000;

(isRoot ? describe : describe.skip)('the report in a client', () => {
  let lab: ScenarioLab | undefined;
  let browser: ChatBrowser | undefined;
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    mkdirSync('test-artifacts', { recursive: true });
    const chosen = SCENARIOS.filter((s) => (ONE_FAULT as readonly string[]).includes(s.name));
    lab = await openScenarioLab(chosen);
    browser = await openChatBrowser();
    for (const o of await lab.runAll({ concurrency: 3 })) outcomes.set(o.scenario.name, o);
  });

  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });

  test.each(ONE_FAULT.map((n) => [n]))('%s: a short room message that names the fault first; details in the thread', async (name) => {
    const o = outcomes.get(name)!;
    if (!o.report) throw new Error(`${name}: no report (${o.error ?? 'unknown'})`);
    const faults = [...new Set((o.scenario.expect.findings ?? []).filter((f) => f.status === 'fail' && f.id).map((f) => f.id!))];
    expect(faults.length).toBeGreaterThan(0);
    const t = threadedReport(o.report);
    expect(t.summary.body.length).toBeLessThanOrEqual(MAX_BODY);
    expect(t.summary.html).not.toContain('<details');
    expect(t.threadParts.length).toBeGreaterThanOrEqual(2);
    const shown = await browser!.show(t, {
      summary: `test-artifacts/report-${name}-summary.png`,
      page: `test-artifacts/report-${name}-thread.png`,
      ...(name === ONE_FAULT[0] ? { message: 'test-artifacts/report.png' } : {}),
    });
    expect(shown.summaryLines).toBeGreaterThan(8); // the measure sees the text at all
    expect(shown.summaryLines).toBeLessThanOrEqual(MAX_LINES);
    // The fault is named (title and id) in the first screen, with its fix.
    for (const id of faults) {
      expect(shown.firstScreenText).toContain(`${checkTitle(id)} (${id}`);
    }
    expect(shown.firstScreenText).toContain('Fix first');
    if (name === ONE_FAULT[0] && process.env.MXV_UPDATE_DOCS === '1') copyFileSync('test-artifacts/report.png', 'docs/report.png');
  });
});
