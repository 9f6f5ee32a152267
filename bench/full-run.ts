// Child process of the bench: one full run, then its peak RSS. Input (stdin,
// JSON, never logged): { uris, secret, ca, quality }.
import { runCheck } from '../src/tester/engine';
import { DEFAULT_CHECK_OPTIONS, type QualityProfile } from '../src/tester/options';
import { Secret } from '../src/tester/secret';

async function main(): Promise<void> {
  let raw = '';
  for await (const chunk of process.stdin) raw += chunk;
  const input = JSON.parse(raw) as { uris: string[]; secret: string; ca: string; quality: QualityProfile };
  const report = await runCheck({
    ...DEFAULT_CHECK_OPTIONS,
    credentials: { kind: 'secret', uris: input.uris, secret: new Secret(input.secret) },
    allowPrivate: true,
    assumePublic: ['127.0.0.0/8', '::1/128'],
    ca: [input.ca],
    quality: input.quality,
  });
  process.stdout.write(JSON.stringify({ durationMs: Math.round(report.durationMs), grade: report.grade.overall, maxRssKb: process.resourceUsage().maxRSS }));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  },
);
