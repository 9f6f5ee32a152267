// The scenario lab in one command: every scenario of test/scenarios (a real,
// deliberately misconfigured coturn, or a broken network, in a namespace of its
// own), the engine run against it, and the accuracy table.
//
//   npm run scenarios                       all, table on stdout
//   npm run scenarios -- --only healthy,open-relay
//   npm run scenarios -- --json             machine-readable summary
//   npm run scenarios -- --details all      every expectation, not only the wrong ones
//   npm run scenarios -- --report NAME      also print that scenario's full report (text)
//   npm run scenarios -- --list
//
// Exit: 0 every scenario diagnosed correctly; 1 a wrong diagnosis or a
// scenario that could not run; 3 none wrong but some pending (their checks are
// not in the engine yet); 2 bad usage or no root (namespaces need root).
import { renderText } from '../src/render';
import { SCENARIOS } from '../test/scenarios';
import { openScenarioLab } from '../test/scenarios/runner';
import { renderTable, toJsonSummary, totals } from '../test/scenarios/table';

interface Args {
  only: string[];
  json: boolean;
  concurrency: number;
  details: 'failures' | 'all';
  reports: string[];
  list: boolean;
}

function parse(argv: string[]): Args {
  const a: Args = { only: [], json: false, concurrency: 3, details: 'failures', reports: [], list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--only') a.only.push(...value().split(',').filter(Boolean));
    else if (arg === '--json') a.json = true;
    else if (arg === '--concurrency') a.concurrency = Math.max(1, Math.min(8, Number.parseInt(value(), 10) || 1));
    else if (arg === '--details') a.details = value() === 'all' ? 'all' : 'failures';
    else if (arg === '--report') a.reports.push(value());
    else if (arg === '--list') a.list = true;
    else throw new Error(`unknown option ${arg.slice(0, 40)}`);
  }
  return a;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`scenarios: ${(e as Error).message}\n`);
    return 2;
  }
  if (args.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(22)} ${s.title}\n`);
    return 0;
  }
  const unknown = args.only.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) {
    process.stderr.write(`scenarios: no scenario named ${unknown.join(', ')} (see --list)\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('scenarios: the lab needs root (network namespaces, iptables)\n');
    return 2;
  }
  const chosen = args.only.length ? SCENARIOS.filter((s) => args.only.includes(s.name)) : SCENARIOS;
  const t0 = performance.now();
  const lab = await openScenarioLab(chosen);
  let outcomes;
  try {
    outcomes = await lab.runAll({
      concurrency: args.concurrency,
      onDone: (o) => {
        if (!args.json) process.stderr.write(`  ${o.scenario.name} done (${(o.wallMs / 1000).toFixed(1)} s)\n`);
      },
    });
  } finally {
    await lab.close();
  }
  const totalMs = performance.now() - t0;
  if (args.json) process.stdout.write(`${JSON.stringify(toJsonSummary(outcomes, totalMs), null, 2)}\n`);
  else {
    process.stdout.write(`${renderTable(outcomes, totalMs, { details: args.details })}\n`);
    for (const o of outcomes) {
      if (args.reports.includes(o.scenario.name) && o.report) process.stdout.write(`\n=== ${o.scenario.name} ===\n${renderText(o.report, { color: false })}\n`);
    }
  }
  const t = totals(outcomes);
  return t.failed > 0 ? 1 : t.pending > 0 ? 3 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`scenarios: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
