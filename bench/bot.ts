// The bot's benchmark, against a real Synapse and a real coturn on loopback.
// The bot runs as its own process (`node --import tsx src/main.ts --config`)
// so its peak RSS (VmHWM) is its own. Test users talk to it over the
// client-server API and time what comes back, by the server's clock
// (origin_server_ts of command vs answer), by the bot's own log ("command"
// line = command seen) and by our wall clock (send -> our /sync delivers it).
//
//   sequential: ~10 `!voiptest` one after the other (cooldowns off), quality
//               off, then a few with the default audio window
//   flood:      20 users at once, default limits and quality; in 20 DMs
//               (concurrency bound: runs + "busy") and in one shared room
//               (room cooldown: one run + "recently")
//
// `npx tsx bench/bot.ts` prints one JSON document; bench/run.ts can call benchBot().
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoturn, type CoturnLab } from '../scripts/lab/coturn';
import { pickRelayRange } from '../scripts/lab/ports';
import { startSynapse, type SynapseLab, type SynapseUser } from '../scripts/lab/synapse';
import { PROFILES } from '../src/tester/quality/profile';
import { percentile } from '../src/tester/quality/stats';
import { api, relatesTo, replyTo, sendText, Watcher, type Seen } from './lib/matrix-driver';

const REPO = join(__dirname, '..');
export const REPORT_RE = /(^|\n)VoIP check of/;
/** The bot's final reaction on a command: "<icon> done: <grade>", or ❌ when the run could not be done. */
export const isResultKey = (key: unknown): boolean => key === '❌' || /^\S+ done: /.test(String(key));
const HOURGLASS = '⏳';
const FLOOD_USERS = 20;

export type Part = 'off' | 'audio' | 'dms' | 'room';
const PARTS: Part[] = ['off', 'audio', 'dms', 'room'];

export interface BotBenchOptions {
  /** Measured sequential commands with quality off (default 10) and audio (default 3). */
  offRuns?: number;
  audioRuns?: number;
  /** Which parts to run (default all); `npx tsx bench/bot.ts off room` runs two. */
  parts?: Part[];
}

const r0 = (v: number) => Math.round(v);
const stats = (v: number[]) => (v.length ? { p50: r0(percentile(v, 50)), p95: r0(percentile(v, 95)), min: r0(Math.min(...v)), max: r0(Math.max(...v)), n: v.length } : { n: 0 });
function goal(value: number | undefined, op: '<' | '<=' | '==', limit: number) {
  const met = value !== undefined && !Number.isNaN(value) && (op === '<' ? value < limit : op === '<=' ? value <= limit : value === limit);
  return { value: value ?? null, goal: `${op} ${limit}`, met };
}

// ---- the bot as a child process -------------------------------------------------

interface LogLine { time: string; msg: string; [k: string]: unknown }

export class BotProcess {
  readonly lines: LogLine[] = [];
  private raw = '';
  private exited: Promise<number | null>;
  private sampler: NodeJS.Timeout;
  peakSampledKb = 0;
  name = 'bot';

  private constructor(private readonly p: ChildProcess) {
    this.exited = new Promise((r) => p.once('exit', (c) => r(c)));
    const onData = (d: Buffer) => {
      this.raw += d.toString('utf8');
      let i;
      while ((i = this.raw.indexOf('\n')) >= 0) {
        const l = this.raw.slice(0, i);
        this.raw = this.raw.slice(i + 1);
        try {
          this.lines.push(JSON.parse(l) as LogLine);
        } catch {
          this.lines.push({ time: new Date().toISOString(), msg: `(raw) ${l.slice(0, 300)}` });
        }
      }
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    this.sampler = setInterval(() => {
      this.peakSampledKb = Math.max(this.peakSampledKb, this.status().rssKb ?? 0);
    }, 200);
  }

  static async start(configPath: string, accessToken: string, name: string, nodeArgs: string[] = []): Promise<BotProcess> {
    // node + tsx loader directly: one process, so /proc/<pid> is the bot itself.
    const p = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', '--config', configPath], {
      cwd: REPO,
      env: { ...process.env, MXV_ACCESS_TOKEN: accessToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const b = new BotProcess(p);
    b.name = name;
    const end = Date.now() + 60_000;
    while (!b.lines.some((l) => l.msg === 'syncing')) {
      if (p.exitCode !== null || Date.now() > end) {
        await b.stop();
        throw new Error(`bot did not start: ${b.lines.slice(-5).map((l) => l.msg).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return b;
  }

  get pid(): number {
    return this.p.pid ?? -1;
  }

  /** VmRSS / VmHWM from /proc (kB). */
  status(): { rssKb?: number; hwmKb?: number } {
    try {
      const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1]) || undefined;
      return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
    } catch {
      return {};
    }
  }

  /** Log lines after index `from` with this message. */
  find(msg: string, from = 0, pred: (l: LogLine) => boolean = () => true): LogLine | undefined {
    return this.lines.slice(from).find((l) => l.msg === msg && pred(l));
  }

  /** SIGTERM (graceful), SIGKILL after 15 s; returns the exit code and the peak RSS. */
  async stop(): Promise<{ code: number | null; hwmKb?: number }> {
    clearInterval(this.sampler);
    // Debugging aid: MXV_BENCH_BOT_LOGS=DIR keeps each bot process's log (already scrubbed by the bot).
    const logDir = process.env.MXV_BENCH_BOT_LOGS;
    if (logDir) writeFileSync(join(logDir, `${this.name}.log`), this.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const hwmKb = this.status().hwmKb;
    if (this.p.exitCode === null && this.p.signalCode === null) {
      this.p.kill('SIGTERM');
      const t = setTimeout(() => this.p.kill('SIGKILL'), 15_000);
      const code = await this.exited;
      clearTimeout(t);
      return { code, hwmKb };
    }
    return { code: this.p.exitCode, hwmKb };
  }
}

// ---- the lab ---------------------------------------------------------------------------

export interface Lab {
  coturn: CoturnLab;
  hs: SynapseLab;
  uris: string[];
  dir: string;
  dataDir: string;
  caFile: string;
  bot: SynapseUser;
  driver: SynapseUser;
  users: SynapseUser[];
}

export async function startLab(userCount = FLOOD_USERS): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'mxv-bench-bot-'));
  let coturn: CoturnLab | undefined;
  let hs: SynapseLab | undefined;
  try {
    coturn = await startCoturn({ tls: true, relayPorts: pickRelayRange(2000) });
    // The engine bench's 6 URIs: STUN/UDP, TURN/UDP, TURNS/TLS on 127.0.0.1 and ::1.
    const uris = ['127.0.0.1', '[::1]'].flatMap((h) => [`stun:${h}:${coturn!.port}`, `turn:${h}:${coturn!.port}?transport=udp`, `turns:${h}:${coturn!.tlsPort}?transport=tcp`]);
    hs = await startSynapse({ turnUris: uris, turnSharedSecret: coturn.secret!, turnUserLifetime: '1h' });
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, coturn.caPem!);
    const bot = await hs.registerUser('voiptest', 'bench-bot-password');
    const driver = await hs.registerUser('admin', 'bench-admin-password', true);
    const users: SynapseUser[] = [];
    for (let i = 0; i < userCount; i += 5) {
      const batch = Array.from({ length: Math.min(5, userCount - i) }, (_, k) => `user${String(i + k + 1).padStart(2, '0')}`);
      users.push(...(await Promise.all(batch.map((n) => hs!.registerUser(n, `bench-${n}-password`)))));
    }
    return { coturn, hs, uris, dir, dataDir: join(dir, 'data'), caFile, bot, driver, users };
  } catch (e) {
    await hs?.stop().catch(() => undefined);
    await coturn?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export async function stopLab(lab: Lab): Promise<void> {
  await lab.hs.stop().catch(() => undefined);
  await lab.coturn.stop().catch(() => undefined);
  rmSync(lab.dir, { recursive: true, force: true });
}

export function writeConfig(lab: Lab, name: string, opts: { quality: 'off' | 'audio'; limits?: { user: number; room: number; concurrent: number }; e2e?: boolean }): string {
  const l = opts.limits;
  const path = join(lab.dir, `${name}.yaml`);
  // Everything else is the bot's default (family both, e2e on, timeout 20 s, limits 60/20/2).
  writeFileSync(path, [
    `homeserver: { url: "${lab.hs.url}" }`,
    `dataDir: "${lab.dataDir}"`,
    'invites: { everyone: true }',
    ...(l ? [`limits: { userCooldownSeconds: ${l.user}, roomCooldownSeconds: ${l.room}, maxConcurrentRuns: ${l.concurrent} }`] : []),
    'schedule: { enabled: false }',
    `engine: { allowPrivate: true, assumePublic: ["127.0.0.0/8", "::1/128"], ca: ["${lab.caFile}"], quality: ${opts.quality}${opts.e2e === false ? ', e2e: false' : ''} }`,
    'logging: { level: info, format: json }',
    // A free port for /healthz + /metrics: never clash with a demo or another bot on 9464.
    'ops: { listen: "127.0.0.1:0" }',
    '',
  ].join('\n'));
  return path;
}

export async function roomWithBot(lab: Lab, u: SynapseUser, body: Record<string, unknown>): Promise<string> {
  const { room_id: roomId } = await api(lab.hs.url, u, 'POST', '/createRoom', { invite: [lab.bot.userId], ...body });
  const end = Date.now() + 30_000;
  for (;;) {
    const m = await api(lab.hs.url, u, 'GET', `/rooms/${encodeURIComponent(roomId)}/joined_members`);
    if (m.joined?.[lab.bot.userId]) return roomId as string;
    if (Date.now() > end) throw new Error('the bot did not join');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const fromBot = (lab: Lab) => (s: Seen) => s.ev.sender === lab.bot.userId;
const gradeOf = (body: string) => /: (Excellent|Great|Good|Poor|Fail) \(IPv4/.exec(body)?.[1] ?? null;

// ---- sequential commands: reaction and report latency --------------------------------

async function sequential(lab: Lab, quality: 'off' | 'audio', measured: number, room: { id?: string }) {
  const bot = await BotProcess.start(writeConfig(lab, `seq-${quality}`, { quality, limits: { user: 0, room: 0, concurrent: 2 } }), lab.bot.accessToken.reveal(), `seq-${quality}`);
  const w = new Watcher(lab.hs.url, lab.driver);
  const rows: Record<string, number | string | null>[] = [];
  const rssMb: number[] = [];
  try {
    const idleRssKb = bot.status().rssKb;
    room.id ??= await roomWithBot(lab, lab.driver, { preset: 'private_chat', name: 'bench' });
    await w.start();
    const isBot = fromBot(lab);
    for (let i = 0; i < measured + 1; i++) { // the first one warms up (module loading, JIT) and is not counted
      const mark = w.seen.length;
      const logMark = bot.lines.length;
      const cmd = await sendText(lab.hs.url, lab.driver, room.id, '!voiptest');
      const cmdSeen = await w.waitFor('the command', (s) => s.ev.event_id === cmd.eventId, 10_000);
      const after = (s: Seen) => w.seen.indexOf(s) >= mark && isBot(s);
      const react = await w.waitFor('⏳', (s) => after(s) && s.ev.type === 'm.reaction' && relatesTo(s.ev).event_id === cmd.eventId && relatesTo(s.ev).key === HOURGLASS, 30_000);
      const report = await w.waitFor('report', (s) => after(s) && s.ev.type === 'm.room.message' && REPORT_RE.test(String(s.ev.content.body ?? '')), 60_000);
      const result = await w.waitFor('result reaction', (s) => after(s) && s.ev.type === 'm.reaction' && relatesTo(s.ev).event_id === cmd.eventId && isResultKey(relatesTo(s.ev).key), 30_000);
      const seenLine = bot.find('command', logMark, (l) => l.roomId === room.id);
      // The log line may trail the result reaction on the pipe.
      for (let k = 0; k < 20 && !bot.find('run finished', logMark); k++) await new Promise((r) => setTimeout(r, 50));
      const finished = bot.find('run finished', logMark);
      rssMb.push(+((bot.status().rssKb ?? 0) / 1024).toFixed(1));
      const ts0 = cmdSeen.ev.origin_server_ts;
      if (i === 0) continue;
      rows.push({
        reactionServerMs: react.ev.origin_server_ts - ts0,
        reactionFromBotSeenMs: seenLine ? react.ev.origin_server_ts - Date.parse(seenLine.time) : null,
        reactionWallMs: react.seenAt - cmd.sentAt,
        reportServerMs: report.ev.origin_server_ts - ts0,
        reportWallMs: report.seenAt - cmd.sentAt,
        resultReactionServerMs: result.ev.origin_server_ts - ts0,
        engineMs: typeof finished?.ms === 'number' ? finished.ms : null,
        grade: gradeOf(String(report.ev.content.body)),
        result: String(relatesTo(result.ev).key),
      });
    }
    const col = (k: string) => rows.map((r) => r[k]).filter((v): v is number => typeof v === 'number');
    const { code, hwmKb } = await bot.stop();
    return {
      quality,
      ...(quality === 'audio' ? { windowMs: PROFILES.audio.durationMs } : {}),
      commands: rows.length,
      reactionMs: { server: stats(col('reactionServerMs')), fromBotSeen: stats(col('reactionFromBotSeenMs')), wall: stats(col('reactionWallMs')) },
      reportMs: { server: stats(col('reportServerMs')), wall: stats(col('reportWallMs')) },
      resultReactionMs: { server: stats(col('resultReactionServerMs')) },
      runFinishedLogMs: stats(col('engineMs')),
      grades: [...new Set(rows.map((r) => `${r.grade} ${r.result}`))],
      botRssMb: { idle: idleRssKb ? +(idleRssKb / 1024).toFixed(1) : null, peak: hwmKb ? +(hwmKb / 1024).toFixed(1) : null, afterEachRun: rssMb },
      botExit: code,
    };
  } finally {
    await w.stop();
    await bot.stop();
  }
}

// ---- 20 users at once ----------------------------------------------------------------------

type Kind = 'report' | 'busy' | 'cooldown' | 'failed' | 'other' | 'lost';

async function flood(lab: Lab, where: 'dms' | 'room') {
  const bot = await BotProcess.start(writeConfig(lab, `flood-${where}`, { quality: 'audio' }), lab.bot.accessToken.reveal(), `flood-${where}`);
  const watchers: Watcher[] = [];
  try {
    const idleRssKb = bot.status().rssKb;
    const isBot = fromBot(lab);
    // Each user gets a watcher on its room (DMs), or the admin watches the shared room.
    let rooms: string[];
    if (where === 'dms') {
      rooms = await Promise.all(lab.users.map((u) => roomWithBot(lab, u, { preset: 'trusted_private_chat', is_direct: true })));
      watchers.push(...lab.users.map((u) => new Watcher(lab.hs.url, u)));
    } else {
      const shared = await roomWithBot(lab, lab.driver, { preset: 'public_chat', name: 'bench flood' });
      await Promise.all(lab.users.map((u) => api(lab.hs.url, u, 'POST', `/join/${encodeURIComponent(shared)}`, {})));
      rooms = lab.users.map(() => shared);
      watchers.push(new Watcher(lab.hs.url, lab.driver));
    }
    await Promise.all(watchers.map((w) => w.start()));
    const wOf = (i: number) => (where === 'dms' ? watchers[i]! : watchers[0]!);
    await new Promise((r) => setTimeout(r, 1000)); // let the joins settle in the bot
    const marks = lab.users.map((_, i) => wOf(i).seen.length);
    const t0 = Date.now();
    const cmds = await Promise.all(lab.users.map((u, i) => sendText(lab.hs.url, u, rooms[i]!, '!voiptest')));
    const outcome = await Promise.all(cmds.map(async (cmd, i) => {
      const w = wOf(i);
      const mine = (s: Seen) => w.seen.indexOf(s) >= marks[i]! && isBot(s) && s.roomId === rooms[i];
      try {
        const cmdSeen = await w.waitFor('the command', (s) => s.ev.event_id === cmd.eventId, 15_000);
        const ts0 = cmdSeen.ev.origin_server_ts;
        // First answer: a reply to the command (refusal) or a reaction on it (run started).
        const first = await w.waitFor('an answer', (s) => mine(s) && (replyTo(s.ev) === cmd.eventId || (s.ev.type === 'm.reaction' && relatesTo(s.ev).event_id === cmd.eventId)), 60_000);
        const ackMs = first.ev.origin_server_ts - ts0;
        if (first.ev.type === 'm.reaction') {
          const result = await w.waitFor('result', (s) => mine(s) && s.ev.type === 'm.reaction' && relatesTo(s.ev).event_id === cmd.eventId && isResultKey(relatesTo(s.ev).key), 120_000);
          return { kind: 'report' as Kind, ackMs, doneTs: result.ev.origin_server_ts, doneMs: result.ev.origin_server_ts - ts0, retryS: null };
        }
        const body = String(first.ev.content.body ?? '');
        const kind: Kind = /^Busy/.test(body) ? 'busy' : /recently/.test(body) ? 'cooldown' : /could not run|cannot test/.test(body) ? 'failed' : 'other';
        const retry = /try again in (\d+) s/.exec(body);
        return { kind, ackMs, doneTs: first.ev.origin_server_ts, doneMs: ackMs, retryS: retry ? Number(retry[1]) : null, ...(kind === 'other' ? { text: body.slice(0, 120) } : {}) };
      } catch (e) {
        return { kind: 'lost' as Kind, error: (e as Error).message };
      }
    }));
    const totalWallMs = Date.now() - t0;
    const count = (k: Kind) => outcome.filter((o) => o.kind === k).length;
    const kinds = Object.fromEntries((['report', 'busy', 'cooldown', 'failed', 'other', 'lost'] as Kind[]).map((k) => [k, count(k)]).filter(([, n]) => n));
    const reportsPosted = new Set(watchers.flatMap((w) => w.seen.filter((s) => isBot(s) && s.ev.type === 'm.room.message' && REPORT_RE.test(String(s.ev.content.body ?? '')) && s.ev.origin_server_ts >= t0 - 1000).map((s) => s.ev.event_id))).size;
    const done = outcome.filter((o) => 'doneTs' in o && typeof o.doneTs === 'number') as { doneTs: number; ackMs: number; doneMs: number; kind: Kind; retryS: number | null }[];
    const firstCmdTs = Math.min(...(await Promise.all(cmds.map((c, i) => wOf(i).waitFor('cmd', (s) => s.ev.event_id === c.eventId, 1000).then((s) => s.ev.origin_server_ts, () => Infinity)))));
    const { code, hwmKb } = await bot.stop();
    return {
      where: where === 'dms' ? '20 users, each in a DM with the bot' : '20 users in one room',
      limits: 'defaults: user cooldown 60 s, room cooldown 20 s, 2 runs at once; quality audio',
      users: lab.users.length,
      answered: outcome.length - count('lost'),
      kinds,
      reportsPosted,
      retryAfterS: [...new Set(done.map((o) => o.retryS).filter((v) => v !== null))],
      ackMs: stats(done.map((o) => o.ackMs)),
      refusalMs: stats(done.filter((o) => o.kind !== 'report').map((o) => o.doneMs)),
      reportMs: stats(done.filter((o) => o.kind === 'report').map((o) => o.doneMs)),
      totalMs: { server: done.length ? Math.max(...done.map((o) => o.doneTs)) - firstCmdTs : null, wall: totalWallMs },
      botRssMb: { idle: idleRssKb ? +(idleRssKb / 1024).toFixed(1) : null, peak: hwmKb ? +(hwmKb / 1024).toFixed(1) : null, sampledPeak: +(bot.peakSampledKb / 1024).toFixed(1) },
      botErrors: bot.lines.filter((l) => l.level === 'error').map((l) => l.msg).slice(0, 5),
      botExit: code,
      ...(count('lost') ? { lost: outcome.filter((o) => o.kind === 'lost') } : {}),
    };
  } finally {
    await Promise.all(watchers.map((w) => w.stop()));
    await bot.stop();
  }
}

// ---- entry ----------------------------------------------------------------------------------

export async function benchBot(opts: BotBenchOptions = {}): Promise<Record<string, unknown>> {
  // The lab's guarded children are unref'd: keep the loop alive while we await them.
  const keepAlive = setInterval(() => undefined, 1000);
  const lab = await startLab();
  try {
    const room: { id?: string } = {};
    const want = new Set(opts.parts ?? PARTS);
    const off = want.has('off') ? await sequential(lab, 'off', opts.offRuns ?? 10, room) : null;
    const audio = want.has('audio') ? await sequential(lab, 'audio', opts.audioRuns ?? 3, room) : null;
    const dms = want.has('dms') ? await flood(lab, 'dms') : null;
    const shared = want.has('room') ? await flood(lab, 'room') : null;
    const windowMs = PROFILES.audio.durationMs;
    const p = (s: unknown, k: 'p50' | 'p95') => (s as { p50?: number; p95?: number } | undefined)?.[k];
    return {
      how: {
        server: 'origin_server_ts of the answer minus that of the command (both stamped by Synapse)',
        fromBotSeen: "answer's origin_server_ts minus the time of the bot's own \"command\" log line (command seen by the bot)",
        wall: 'our clock: just before the PUT of the command until our /sync delivered the answer',
        rss: 'VmHWM of the bot process (node + tsx loader) from /proc, read before SIGTERM',
      },
      setup: { uris: lab.uris.length, credentials: "bot's own /voip/turnServer from Synapse (turn_shared_secret)", engine: 'family both, e2e on, timeout 20 s', bot: 'child process: node --import tsx src/main.ts' },
      ...(off ? { commandToReaction: off.reactionMs } : {}),
      quality: { ...(off ? { off } : {}), ...(audio ? { audio } : {}) },
      flood: { ...(dms ? { dms } : {}), ...(shared ? { room: shared } : {}) },
      goals: {
        ...(off ? {
          reactionP95Under300ms: goal(p(off.reactionMs.server, 'p95'), '<', 300),
          reportOffP50Under2s: goal(p(off.reportMs.server, 'p50'), '<', 2000),
        } : {}),
        ...(audio ? {
          reactionAudioP95Under300ms: goal(p(audio.reactionMs.server, 'p95'), '<', 300),
          reportAudioP50Under2sPlusWindow: goal(p(audio.reportMs.server, 'p50'), '<', 2000 + windowMs),
        } : {}),
        ...(dms ? { floodDmsAllAnswered: goal(dms.answered, '==', lab.users.length) } : {}),
        ...(shared ? { floodRoomAllAnswered: goal(shared.answered, '==', lab.users.length) } : {}),
      },
    };
  } finally {
    await stopLab(lab);
    clearInterval(keepAlive);
  }
}

if (require.main === module) {
  const startedAt = new Date().toISOString();
  const parts = process.argv.slice(2).filter((a): a is Part => (PARTS as string[]).includes(a));
  benchBot(parts.length ? { parts } : {}).then(
    (r) => {
      process.stdout.write(`${JSON.stringify({ bench: 'mx-voiptest bot', startedAt, ...r }, null, 2)}\n`);
      process.exit(0);
    },
    (e) => {
      process.stderr.write(`bot bench failed: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
