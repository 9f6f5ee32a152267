// README sections generated from the code, so the docs cannot drift:
//   - the check catalogue from src/tester/checks.ts + hints.ts (every cause and its hint);
//   - the configuration reference from src/config/schema.ts.
// And the README screenshot: a real run against a lab coturn, as the bot sends
// it (threadedReport: summary and thread), photographed in Chromium (the same
// page as test/integration/report-render.test.ts).
//
//   tsx scripts/docs.ts              rewrite the generated README sections
//   tsx scripts/docs.ts --check      exit 1 when README.md is stale (test/unit/ops-docs.test.ts)
//   tsx scripts/docs.ts --screenshot write docs/report.png (needs coturn + /usr/bin/chromium)
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SCHEMA } from '../src/config';
import { isField, type Field, type Section } from '../src/config/schema';
import { CHECKS, CHECK_IDS, type CheckScope } from '../src/tester/checks';
import { HINTS } from '../src/tester/hints';

const ROOT = resolve(__dirname, '..');
const README = join(ROOT, 'README.md');

const SCOPE: Record<CheckScope, string> = { run: 'per run', uri: 'per URI', 'uri-family': 'per URI and address family', rtc: 'per MatrixRTC transport' };

/** Markdown table cell: no pipes or newlines. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function checksSection(): string {
  const out: string[] = [];
  for (const id of CHECK_IDS) {
    const spec = CHECKS[id];
    out.push(`#### ${id}: ${spec.title}`, '', `Scope: ${SCOPE[spec.scope]}.`, '');
    const rows = HINTS.filter((h) => h.id === id);
    const def = rows.find((r) => r.cause === 'default' && !r.impl);
    const causes = rows.filter((r) => r !== def);
    if (causes.length) {
      out.push('| finding (cause) | what to do |', '|---|---|');
      for (const r of causes) out.push(`| \`${r.cause}\`${r.impl ? ` (${r.impl})` : ''} | ${cell(r.hint)} |`);
      out.push('');
    }
    if (def) out.push(`${causes.length ? 'Any other cause' : 'When it fails'}: ${def.hint}`, '');
  }
  return out.join('\n').trimEnd();
}

function typeOf(f: Field): string {
  switch (f.t) {
    case 'optString': return 'string (optional)';
    case 'optUrl': return 'URL (optional)';
    case 'secret': return 'secret';
    case 'enum': return f.values.map((v) => `\`${v}\``).join(' \\| ');
    case 'list': return 'list';
    case 'int': return `integer ${f.min}..${f.max}`;
    default: return f.t;
  }
}

function defaultOf(f: Field): string {
  if (f.default === null) return f.example ? `unset (e.g. \`${f.example}\`)` : 'unset';
  if (Array.isArray(f.default)) return f.default.length ? `\`${JSON.stringify(f.default)}\`` : '`[]`';
  return `\`${String(f.default)}\``;
}

export function configSection(): string {
  const out = ['| key | type | default | env | meaning |', '|---|---|---|---|---|'];
  const walk = (s: Section, prefix: string) => {
    for (const [k, v] of Object.entries(s)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (isField(v)) {
        const env = v.env ? `\`${v.env}\`${v.t === 'secret' ? ` / \`${v.env}_FILE\`` : ''}` : '';
        out.push(`| \`${key}\` | ${typeOf(v)} | ${cell(defaultOf(v))} | ${env} | ${cell(v.doc)} |`);
      } else walk(v, key);
    }
  };
  walk(SCHEMA as unknown as Section, '');
  return out.join('\n');
}

const SECTIONS: Record<string, () => string> = { checks: checksSection, config: configSection };

/** README text with every generated section replaced. Throws when a marker pair is missing. */
export function renderReadme(text: string): string {
  let s = text;
  for (const [name, gen] of Object.entries(SECTIONS)) {
    const begin = `<!-- BEGIN GENERATED: ${name} (tsx scripts/docs.ts) -->`;
    const end = `<!-- END GENERATED: ${name} -->`;
    const i = s.indexOf(begin);
    const j = s.indexOf(end);
    if (i < 0 || j < i) throw new Error(`README.md lacks the markers for the ${name} section`);
    s = `${s.slice(0, i + begin.length)}\n${gen()}\n${s.slice(j)}`;
  }
  return s;
}

async function screenshot(name = 'relay-range-blocked'): Promise<void> {
  // A scenario of the lab (real coturn in a network namespace, a real fault), as the
  // bot posts it (summary in the room, details in the thread), in a desktop client layout.
  const { SCENARIOS } = await import('../test/scenarios');
  const { openScenarioLab } = await import('../test/scenarios/runner');
  const { threadedReport } = await import('../src/render');
  const { openChatBrowser } = await import('../test/support/chat-page');
  const scenario = SCENARIOS.find((x) => x.name === name);
  if (!scenario) throw new Error(`no scenario named ${name}`);
  const lab = await openScenarioLab([scenario]);
  try {
    const outcome = await lab.run(scenario);
    const report = outcome.report;
    if (!report) throw new Error(`scenario ${name} produced no report: ${outcome.error ?? 'unknown'}`);
    const browser = await openChatBrowser();
    try {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      await browser.show(threadedReport(report), { message: join(ROOT, 'docs', 'report.png') });
    } finally {
      await browser.close();
    }
    process.stderr.write(`docs: wrote docs/report.png (overall ${report.grade.overall})\n`);
  } finally {
    await lab.close();
  }
}

async function main(): Promise<number> {
  const arg = process.argv[2];
  if (arg === '--screenshot') {
    await screenshot(process.argv[3]);
    return 0;
  }
  const text = readFileSync(README, 'utf8');
  const next = renderReadme(text);
  if (arg === '--check') {
    if (next !== text) {
      process.stderr.write('README.md is stale: run `npx tsx scripts/docs.ts`\n');
      return 1;
    }
    return 0;
  }
  if (next !== text) writeFileSync(README, next);
  process.stderr.write(`docs: README.md ${next === text ? 'already up to date' : 'updated'}\n`);
  return 0;
}

if (require.main === module) {
  main().then((c) => process.exit(c), (e) => {
    process.stderr.write(`docs: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
