// The bot in an encrypted DM, against real Synapse + coturn and a real E2EE
// client that is not ours (matrix-nio, test/support/nio_driver.py): command ->
// ⏳ reaction and command -> report (quality off), timed by nio's clock (its
// send returns -> its sync delivers the decrypted answer) and by the server's
// (origin_server_ts); the bot process's RSS with encryption on, idle and after
// 50 runs.
//
// `npx tsx bench/e2ee.ts` prints one JSON document; bench/run.ts calls benchE2ee().
import { join } from 'node:path';
import { percentile } from '../src/tester/quality/stats';
import { NioClient, type NioEvent } from '../test/support/nio';
import { BotProcess, startLab, stopLab, writeConfig } from './bot';

const RUNS = 50;
const r0 = (v: number) => Math.round(v);
const stats = (v: number[]) => (v.length ? { p50: r0(percentile(v, 50)), p95: r0(percentile(v, 95)), max: r0(Math.max(...v)), n: v.length } : { n: 0 });
const mb = (kb: number | undefined) => (kb === undefined ? null : +(kb / 1024).toFixed(1));
const goal = (value: number | undefined, limit: number) => ({ value: value ?? null, goal: `< ${limit}`, met: value !== undefined && value < limit });
const relates = (e: NioEvent) => (e.content['m.relates_to'] ?? {}) as { event_id?: string; key?: string };

export async function benchE2ee(runs = RUNS): Promise<Record<string, unknown>> {
  const lab = await startLab(0);
  let bot: BotProcess | undefined;
  const nio = new NioClient();
  try {
    const config = writeConfig(lab, 'e2ee', { quality: 'off', limits: { user: 0, room: 0, concurrent: 2 } });
    bot = await BotProcess.start(config, lab.bot.accessToken.reveal(), 'e2ee');
    const on = bot.find('end-to-end encryption on');
    if (!on) throw new Error(`encryption did not start: ${bot.find('end-to-end encryption is off')?.reason ?? 'no log line'}`);
    await new Promise((r) => setTimeout(r, 3000));
    const idleKb = bot.status().rssKb;
    await nio.call('login', { hs: lab.hs.url, user: lab.driver.userId, password: 'bench-admin-password', store: join(lab.dir, 'nio') });
    const { room_id: dm } = await nio.call('create_room', { invite: [lab.bot.userId], encrypted: true, direct: true });
    await nio.call('wait_joined', { room: dm, user: lab.bot.userId });
    const reaction: number[] = [];
    const report: number[] = [];
    const reactionServer: number[] = [];
    const reportServer: number[] = [];
    let allEncrypted = true;
    for (let i = 0; i < runs + 1; i++) { // the first warms up (room key sharing, JIT) and is not counted
      const sent = await nio.call('send', { room: dm, body: '!voiptest' });
      const hour = await nio.waitEvent(dm, lab.bot.userId, { type: 'm.reaction', after: sent.event_id, pattern: '⏳', timeout: 30 });
      const rep = await nio.waitEvent(dm, lab.bot.userId, { pattern: '^VoIP check of', after: sent.event_id, timeout: 60 });
      // The result reaction ends the run: the next command starts on an idle bot.
      await nio.waitEvent(dm, lab.bot.userId, { type: 'm.reaction', after: rep.event_id, timeout: 30 }).catch(() => undefined);
      allEncrypted &&= hour.decrypted && rep.decrypted && relates(hour).event_id === sent.event_id;
      if (i === 0) continue;
      reaction.push(hour.received_at - sent.sent_at);
      report.push(rep.received_at - sent.sent_at);
      const ts0 = (await nio.call<{ origin_server_ts?: number }>('raw_event', { room: dm, event_id: sent.event_id })).origin_server_ts;
      if (ts0 && hour.server_ts && rep.server_ts) {
        reactionServer.push(hour.server_ts - ts0);
        reportServer.push(rep.server_ts - ts0);
      }
    }
    const afterKb = bot.status().rssKb;
    await new Promise((r) => setTimeout(r, 3000));
    const settledKb = bot.status().rssKb;
    const { hwmKb } = await bot.stop();
    bot = undefined;
    const rx = stats(reaction);
    const rp = stats(report);
    return {
      setup: { client: 'matrix-nio 0.26 (its own crypto) in an encrypted DM opened as Element does', quality: 'off', runs, bot: 'child process, encryption on, access token' },
      crossSigning: on.crossSigning ?? null,
      allAnswersEncrypted: allEncrypted,
      commandToReactionMs: rx,
      commandToReportMs: rp,
      server: { commandToReactionMs: stats(reactionServer), commandToReportMs: stats(reportServer) },
      rssMb: { idle: mb(idleKb), after50Runs: mb(afterKb), after50RunsSettled: mb(settledKb), peak: mb(hwmKb) },
      goals: {
        commandToReactionP50Under300: goal(rx.p50, 300),
        commandToReportP50Under1500: goal(rp.p50, 1500),
      },
    };
  } finally {
    await nio.close();
    await bot?.stop();
    await stopLab(lab);
  }
}

if (require.main === module) {
  benchE2ee().then((r) => {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    process.exit(0);
  }, (e) => {
    process.stderr.write(`bench e2ee failed: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
