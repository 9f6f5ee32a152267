// The README's generated sections (config reference, check catalogue) match
// the code; the screenshot the README shows exists. Fix: npx tsx scripts/docs.ts
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checksSection, configSection, renderReadme } from '../../scripts/docs';
import { CHECK_IDS } from '../../src/tester/checks';

const ROOT = resolve(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('README generated sections are up to date (run: npx tsx scripts/docs.ts)', () => {
  expect(renderReadme(readme)).toBe(readme);
});

test('the catalogue lists every check id; the reference every config key', () => {
  const checks = checksSection();
  for (const id of CHECK_IDS) expect(checks).toContain(`#### ${id}: `);
  const config = configSection();
  for (const key of ['homeserver.url', 'engine.allowPrivate', 'logging.format', 'turn.sharedSecret']) expect(config).toContain(`| \`${key}\` |`);
});

test('markers missing is an error, not a silent no-op', () => {
  expect(() => renderReadme('# nothing here')).toThrow(/markers/);
});

test('the README screenshot is a PNG', () => {
  const png = readFileSync(join(ROOT, 'docs', 'report.png'));
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.length).toBeGreaterThan(10_000);
  expect(readme).toContain('](docs/report.png)');
});
