#!/usr/bin/env node
// `voiptest` command-line entry: the same engine as the bot, printed to a terminal.
import { helpText, parseCheckArgs, UsageError, type Format } from './cli/args';
import { renderHtml, renderJson, renderMarkdown, renderText } from './render';
import { runCheck, RunRefusedError } from './tester/engine';
import { disposeRtcMedia } from './tester/rtc/media';
import type { Report } from './tester/report';

export const EXIT = { ok: 0, findings: 1, cannotStart: 2 } as const;

export function exitCodeFor(report: Report): number {
  const bad = report.checks.some((c) => c.status === 'fail' || c.severity === 'critical');
  return bad ? EXIT.findings : EXIT.ok;
}

function render(report: Report, format: Format, color: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'markdown':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'text':
      return renderText(report, { color });
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return command === undefined ? EXIT.cannotStart : EXIT.ok;
  }
  if (command !== 'check') {
    process.stderr.write(`voiptest: unknown command "${command.slice(0, 40)}" (the command is "check"; see --help)\n`);
    return EXIT.cannotStart;
  }
  try {
    const req = parseCheckArgs(rest);
    if (req.help) {
      process.stdout.write(`${helpText()}\n`);
      return EXIT.ok;
    }
    const report = await runCheck(req.options).finally(() => disposeRtcMedia());
    process.stdout.write(`${render(report, req.format, Boolean(process.stdout.isTTY) && !process.env.NO_COLOR)}\n`);
    return exitCodeFor(report);
  } catch (e) {
    if (e instanceof UsageError || e instanceof RunRefusedError) {
      process.stderr.write(`voiptest: ${e.message}\n`);
      return EXIT.cannotStart;
    }
    process.stderr.write(`voiptest: internal error: ${(e as Error).message}\n`);
    return EXIT.cannotStart;
  }
}

/**
 * Exit once stdout and stderr are flushed: a finished check must not wait for
 * a library's leftover timers (werift's DTLS retransmits keep a closed client
 * alive for up to ~33 s after a server died mid-handshake).
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(exitWhenFlushed, () => exitWhenFlushed(EXIT.cannotStart));
}
