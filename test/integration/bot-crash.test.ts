// Crash safety against a real Synapse and coturn (127.0.0.1): the bot as its
// own process is killed with SIGKILL in the middle of a run; after a restart
// the history passes PRAGMA integrity_check, the run reported before is still
// there, and the interrupted command gets exactly one answer ("interrupted,
// please retry"), never two. And SIGKILL of a process in the middle of
// history writes loses no write it reported and leaves the database intact.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { startSynapse, type SynapseLab, type SynapseUser } from '../../scripts/lab/synapse';
import { matrixTestClient, waitFor, type Ev } from '../support/matrix-client';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
let coturn: CoturnLab | undefined;
let hs: SynapseLab | undefined;
let dir: string;
let alice: SynapseUser;
let botUser: SynapseUser;
let bot: ChildProcess | undefined;
let out = '';
const { api, send, events, botNotice } = matrixTestClient(() => hs!.url, () => botUser.userId, 'c');

function startBot(cfgPath: string): ChildProcess {
  out = '';
  const p = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', cfgPath], {
    cwd: ROOT, env: { ...process.env, MXV_ACCESS_TOKEN: botUser.accessToken.reveal() }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  p.stdout!.on('data', (d) => { out += d; });
  p.stderr!.on('data', (d) => { out += d; });
  return p;
}

/** PRAGMA integrity_check and the number of stored runs. */
function historyState(path: string): { integrity: unknown; runs: number } {
  const db = new Database(path);
  try {
    return { integrity: db.pragma('integrity_check', { simple: true }), runs: (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n };
  } finally {
    db.close();
  }
}

const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
const repliesTo = (evs: Ev[], id: string) => evs.filter((e) => e.sender === botUser.userId && e.type === 'm.room.message' && e.content['m.relates_to']?.['m.in_reply_to']?.event_id === id && e.content['m.relates_to']?.rel_type !== 'm.thread');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mxv-crash-'));
  coturn = await startCoturn({});
  const u = coturn.uris();
  hs = await startSynapse({ turnUris: [u.turnUdp, u.turnTcp], turnSharedSecret: coturn.secret!, turnUserLifetime: '1h' });
  [botUser, alice] = await Promise.all([hs.registerUser('voiptest', 'bot-password'), hs.registerUser('alice', 'alice-password', true)]);
});

afterAll(async () => {
  if (bot && bot.exitCode === null) bot.kill('SIGKILL');
  await hs?.stop().catch(() => undefined);
  await coturn?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('kill -9 mid-run: after restart the history is intact and the command gets one "interrupted, please retry"', async () => {
  const data = join(dir, 'data');
  const cfg = join(dir, 'bot.yaml');
  writeFileSync(cfg, `homeserver: { url: "${hs!.url}" }\ndataDir: "${data}"\ninvites: { users: ["${alice.userId}"] }\n` +
    `limits: { userCooldownSeconds: 0, roomCooldownSeconds: 0 }\nengine: { allowPrivate: true, quality: "off", e2e: false, timeoutMs: 30000, family: "ipv4" }\n` +
    `logging: { format: json }\nops: { listen: "" }\n`);
  bot = startBot(cfg);
  await waitFor('bot syncing', async () => out.includes('"msg":"syncing"'), 60_000);
  const { room_id: room } = await api(alice, 'POST', '/createRoom', { preset: 'private_chat', invite: [botUser.userId] });
  await waitFor('bot joined', async () => Boolean((await api(alice, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[botUser.userId]));

  // One run that completes and is reported.
  const first = await send(alice, room, '!voiptest');
  await botNotice(alice, room, first, /^VoIP check of/, 90_000);

  // The next one is killed while it runs: coturn is frozen, so the run waits on it.
  process.kill(coturn!.pid, 'SIGSTOP');
  let cmd: string;
  try {
    cmd = await send(alice, room, '!voiptest');
    await waitFor('⏳ on the command', async () => (await events(alice, room)).find((e) => e.type === 'm.reaction' && e.content['m.relates_to']?.event_id === cmd && e.content['m.relates_to']?.key === '⏳'), 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    bot.kill('SIGKILL');
    await exited(bot);
  } finally {
    process.kill(coturn!.pid, 'SIGCONT');
  }
  expect(repliesTo(await events(alice, room), cmd)).toHaveLength(0);

  expect(historyState(join(data, 'history.db'))).toEqual({ integrity: 'ok', runs: 1 });

  bot = startBot(cfg);
  const answer = await botNotice(alice, room, cmd, /interrupted: the bot restarted before it finished\. Please retry with !voiptest\./, 60_000);
  expect(answer.content['m.relates_to']?.['m.in_reply_to']?.event_id).toBe(cmd);
  await waitFor('bot syncing again', async () => out.includes('"msg":"syncing"'), 60_000);
  // A new command is answered normally; the interrupted one never gets a second answer.
  const again = await send(alice, room, '!voiptest');
  await botNotice(alice, room, again, /^VoIP check of/, 90_000);
  const evs = await events(alice, room);
  expect(repliesTo(evs, cmd)).toHaveLength(1);
  expect(repliesTo(evs, first)).toHaveLength(1);
  expect(repliesTo(evs, again)).toHaveLength(1);
  bot.kill('SIGTERM');
  await exited(bot);
  expect(historyState(join(data, 'history.db'))).toEqual({ integrity: 'ok', runs: 2 });
});

test('kill -9 in the middle of history writes: integrity_check ok, every write reported as saved is there', async () => {
  const path = join(dir, 'writes.db');
  const script = `
    const { HistoryStore } = require('./src/store');
    const report = require('./test/fixtures/reports/healthy.json');
    const s = HistoryStore.open(${JSON.stringify(path)});
    for (;;) {
      const id = s.saveRun({ trigger: 'command', roomId: '!r:x', requester: '@a:x', targetKey: 'hs:x', sourceKind: 'homeserver', report });
      process.stdout.write('saved ' + id + '\\n');
    }`;
  const reported = new Set<number>();
  for (let round = 0; round < 5; round++) {
    const p = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    p.stdout!.on('data', (d) => {
      buf += d;
      for (const m of buf.matchAll(/saved (\d+)\n/g)) reported.add(Number(m[1]));
    });
    await waitFor('writes going', async () => /saved \d+/.test(buf), 30_000);
    await new Promise((r) => setTimeout(r, 200 + round * 97));
    p.kill('SIGKILL');
    await exited(p);
  }
  expect(reported.size).toBeGreaterThan(20);
  const db = new Database(path);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const ids = new Set((db.prepare('SELECT id FROM runs').all() as { id: number }[]).map((r) => r.id));
    const lost = [...reported].filter((id) => !ids.has(id));
    expect(lost).toEqual([]);
  } finally {
    db.close();
  }
});
