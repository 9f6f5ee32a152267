// README sections generated from the code, so the docs cannot drift:
//   - the check catalogue from src/tester/checks.ts + hints.ts (every cause and its hint);
//   - the configuration reference from src/config/schema.ts.
// And the README screenshot: a real run against a lab coturn, rendered by
// renderHtml (the Matrix HTML the bot sends), photographed in Chromium.
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
    const def = rows.find((r) => r.cause === 'default');
    const causes = rows.filter((r) => r.cause !== 'default');
    if (causes.length) {
      out.push('| finding (cause) | what to do |', '|---|---|');
      for (const r of causes) out.push(`| \`${r.cause}\` | ${cell(r.hint)} |`);
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
  // A scenario of the lab (real coturn in a network namespace, a real fault): a report an admin would get.
  const { SCENARIOS } = await import('../test/scenarios');
  const { openScenarioLab } = await import('../test/scenarios/runner');
  const { renderHtml } = await import('../src/render');
  const { chromium } = await import('playwright-core');
  const scenario = SCENARIOS.find((x) => x.name === name);
  if (!scenario) throw new Error(`no scenario named ${name}`);
  const lab = await openScenarioLab([scenario]);
  const profile = mkdtempSync(join(tmpdir(), 'mxv-shot-'));
  try {
    const outcome = await lab.run(scenario);
    const report = outcome.report;
    if (!report) throw new Error(`scenario ${name} produced no report: ${outcome.error ?? 'unknown'}`);
    const html = renderHtml(report, { matrix: true });
    // A plain chat frame around the message, with the folded details opened.
    const page = `<!doctype html><html><head><meta charset="utf-8"><style>
      body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f6fa;margin:0;padding:24px;color:#17191c}
      .msg{display:flex;gap:12px;max-width:860px;background:#fff;border-radius:10px;padding:16px 20px;box-shadow:0 1px 3px #0002}
      .av{width:36px;height:36px;border-radius:50%;background:#0dbd8b;color:#fff;font-weight:700;display:flex;align-items:center;justify-content:center;flex:none}
      .who{font-weight:600;color:#0dbd8b;margin-bottom:4px} .who span{color:#737d8c;font-weight:400;margin-left:8px;font-size:12px}
      table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #e3e8f0;padding:3px 8px;text-align:left}
      code{background:#f0f2f5;border-radius:3px;padding:0 3px} h1,h2,h3,h4{margin:10px 0 6px} summary{cursor:pointer;color:#0a6fd3}
    </style></head><body><div class="msg"><div class="av">V</div><div><div class="who">VoIP test bot<span>@voiptest:example.org</span></div>
    ${html}</div></div><script>document.querySelectorAll('details').forEach((d,i)=>{if(i<1)d.open=true})</script></body></html>`;
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 920, height: 900 },
    });
    try {
      const p = await ctx.newPage();
      // Offline page: nothing but this HTML (no network at all).
      await p.route('**/*', (r) => r.abort());
      await p.setContent(page, { waitUntil: 'load' });
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      await p.locator('.msg').screenshot({ path: join(ROOT, 'docs', 'report.png') });
    } finally {
      await ctx.close();
    }
    process.stderr.write(`docs: wrote docs/report.png (overall ${report.grade.overall})\n`);
  } finally {
    await lab.close();
    rmSync(profile, { recursive: true, force: true });
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
