// The MatrixRTC scenario lab in one command (test/scenarios/rtc): each fault on
// the lab MatrixRTC stack, the engine's RTC checks against it, the accuracy table.
//   npm run scenarios:rtc [-- --only rtc-healthy,rtc-udp-blocked] [-- --report NAME]
// Exit: 0 all diagnosed right, 1 otherwise, 2 bad usage or no root.
import { renderText } from '../src/render';
import { RTC_SCENARIOS } from '../test/scenarios/rtc/cases';
import { rtcTable, runRtcScenarios } from '../test/scenarios/rtc/runner';
import { disposeRtcMedia } from '../src/tester/rtc/media';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? (argv[argv.indexOf('--only') + 1] ?? '').split(',') : [];
  const report = argv.includes('--report') ? argv[argv.indexOf('--report') + 1] : undefined;
  const chosen = only.length ? RTC_SCENARIOS.filter((s) => only.includes(s.name)) : RTC_SCENARIOS;
  if (chosen.length === 0) {
    process.stderr.write('scenarios:rtc: no such scenario\n');
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('scenarios:rtc: the lab needs root (network namespaces, iptables)\n');
    return 2;
  }
  const t0 = performance.now();
  const outcomes = await runRtcScenarios(chosen, (o) => process.stderr.write(`  ${o.scenario.name} done (${Math.round(o.wallMs)} ms)\n`));
  await disposeRtcMedia();
  process.stdout.write(`${rtcTable(outcomes)}\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  for (const o of outcomes) if (o.scenario.name === report && o.report) process.stdout.write(`\n=== ${o.scenario.name} ===\n${renderText(o.report, { color: false })}\n`);
  return outcomes.every((o) => !o.error && o.wrong.length === 0) ? 0 : 1;
}

main().then(
  (c) => (process.exitCode = c),
  (e) => {
    process.stderr.write(`scenarios:rtc: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
