// `npm run soak [-- RUNS]`: months of uptime in minutes. The bot (own process,
// real Synapse + coturn, quality off, cooldowns off) answers RUNS `!voiptest`
// one after another (default 300); every 10 runs we record its RSS and open
// file descriptors, and, after a forced full GC (bench/lib/soak-probe.cjs), its
// live heap. Growth is judged over the last 200 runs (after warm-up). At the end
// coturn must hold none of our allocations. Prints one JSON document, also
// written to bench/results/soak.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BotProcess, isResultKey, roomWithBot, startLab, stopLab, writeConfig } from './bot';
import { relatesTo, sendText, Watcher } from './lib/matrix-driver';
import { fdCount, fdKinds, udpSocketsInRange } from './lib/procfs';

const EVERY = 10;
const JUDGED = 200;
const GROWTH_GOAL_PCT = 5;

interface Sample { run: number; rssMb: number; fds: number; gcRssMb: number | null; heapUsedMb: number | null; externalMb: number | null; handles: number | null }

const mb = (kb: number | undefined) => (kb === undefined ? null : +(kb / 1024).toFixed(1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (a: number | null | undefined, b: number | null | undefined) => (a && b ? +((100 * (b - a)) / a).toFixed(2) : null);

/** Force a GC in the bot and read its figures from the probe's log line. */
async function probe(bot: BotProcess): Promise<Record<string, number> | null> {
  const mark = bot.lines.length;
  process.kill(bot.pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const l = bot.find('soak-probe', mark);
    if (l) return l as unknown as Record<string, number>;
    await sleep(50);
  }
  return null;
}

export async function soak(runs: number, opts: { e2e?: boolean } = {}): Promise<Record<string, unknown>> {
  const keepAlive = setInterval(() => undefined, 1000); // the lab's children are unref'd
  const lab = await startLab(0);
  const probePath = join(__dirname, 'lib', 'soak-probe.cjs');
  const bot = await BotProcess.start(writeConfig(lab, 'soak', { quality: 'off', limits: { user: 0, room: 0, concurrent: 2 }, e2e: opts.e2e }), lab.bot.accessToken.reveal(), 'soak', ['--expose-gc', '--require', probePath]);
  const w = new Watcher(lab.hs.url, lab.driver);
  const samples: Sample[] = [];
  const failures: string[] = [];
  const t0 = Date.now();
  try {
    const room = await roomWithBot(lab, lab.driver, { preset: 'private_chat', name: 'soak' });
    await w.start();
    const sample = async (run: number) => {
      const rssKb = bot.status().rssKb;
      const fds = fdCount(bot.pid) ?? -1;
      const p = await probe(bot);
      samples.push({ run, rssMb: mb(rssKb) ?? -1, fds, gcRssMb: mb(p?.rssKb), heapUsedMb: mb(p?.heapUsedKb), externalMb: mb(p?.externalKb), handles: p?.handles ?? null });
    };
    await sample(0);
    for (let i = 1; i <= runs; i++) {
      const cmd = await sendText(lab.hs.url, lab.driver, room, '!voiptest');
      try {
        await w.waitFor('result reaction', (s) => s.ev.sender === lab.bot.userId && s.ev.type === 'm.reaction' && relatesTo(s.ev).event_id === cmd.eventId && isResultKey(relatesTo(s.ev).key), 60_000);
      } catch (e) {
        failures.push(`run ${i}: ${(e as Error).message}`);
        if (failures.length > 10) throw new Error(`soak aborted: ${failures.join('; ')}`);
      }
      // Seen events are kept by the driver only; drop them so our own memory stays flat too.
      if (w.seen.length > 200) w.seen.splice(0, w.seen.length - 50);
      if (i % EVERY === 0) await sample(i);
    }
    const wallS = Math.round((Date.now() - t0) / 1000);
    const fdsByKind = fdKinds(bot.pid);
    // Our allocations end with Refresh(0): coturn closes their relay sockets at once (give it a moment).
    let allocations = udpSocketsInRange(lab.coturn.pid, lab.coturn.relayPorts);
    for (let i = 0; i < 20 && allocations > 0; i++) {
      await sleep(250);
      allocations = udpSocketsInRange(lab.coturn.pid, lab.coturn.relayPorts);
    }
    const botErrors = bot.lines.filter((l) => l.level === 'error').map((l) => l.msg);
    const { code } = await bot.stop();
    const start = samples.find((s) => s.run >= runs - JUDGED) ?? samples[0]!;
    const end = samples[samples.length - 1]!;
    const perRun = (a: number | null, b: number | null) => (a !== null && b !== null && end.run > start.run ? +((1024 * (b - a)) / (end.run - start.run)).toFixed(1) : null);
    const growth = pct(start.rssMb, end.rssMb);
    return {
      runs,
      e2e: opts.e2e !== false,
      wallS,
      failures,
      how: `bot = node --expose-gc --import tsx src/main.ts (+ soak probe); RSS and fds from /proc every ${EVERY} runs; gc* = after a forced full GC; growth = last ${JUDGED} runs (run ${start.run} -> ${end.run})`,
      growthPct: { rss: growth, rssAfterGc: pct(start.gcRssMb, end.gcRssMb), heapUsedAfterGc: pct(start.heapUsedMb, end.heapUsedMb), fds: pct(start.fds, end.fds) },
      perRunKb: { rss: perRun(start.rssMb, end.rssMb), heapUsedAfterGc: perRun(start.heapUsedMb, end.heapUsedMb), externalAfterGc: perRun(start.externalMb, end.externalMb) },
      fdsAtEnd: fdsByKind,
      coturnAllocationsAfter: allocations,
      botErrors: [...new Set(botErrors)].slice(0, 5),
      botExit: code,
      samples,
      goals: {
        rssGrowthLast200Under5Pct: { value: growth, goal: `< ${GROWTH_GOAL_PCT}`, met: growth !== null && growth < GROWTH_GOAL_PCT },
        fdsFlat: { value: end.fds - start.fds, goal: '<= 2', met: end.fds - start.fds <= 2 },
        coturnAllocationsAfter0: { value: allocations, goal: '== 0', met: allocations === 0 },
        noFailedRuns: { value: failures.length, goal: '== 0', met: failures.length === 0 },
      },
    };
  } finally {
    await w.stop();
    await bot.stop();
    await stopLab(lab);
    clearInterval(keepAlive);
  }
}

if (require.main === module) {
  // `npm run soak -- [RUNS] [--no-e2e]` (--no-e2e: tell the WebRTC engines' share from the rest)
  const args = process.argv.slice(2);
  const runs = Number(args.find((a) => !a.startsWith('--')) ?? 300);
  if (!Number.isInteger(runs) || runs < 20 || runs > 100_000) {
    process.stderr.write(`runs must be an integer from 20 to 100000, got ${JSON.stringify(args.find((a) => !a.startsWith('--')))}\n`);
    process.exit(2);
  }
  const startedAt = new Date().toISOString();
  soak(runs, { e2e: !args.includes('--no-e2e') }).then(
    (r) => {
      const doc = JSON.stringify({ bench: 'mx-voiptest soak', startedAt, ...r }, null, 2) + '\n';
      mkdirSync(join(__dirname, 'results'), { recursive: true });
      if (!process.env.MXV_SOAK_NO_SAVE) writeFileSync(join(__dirname, 'results', 'soak.json'), doc);
      process.stdout.write(doc);
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`soak failed: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
