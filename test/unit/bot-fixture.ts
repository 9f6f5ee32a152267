// A report in the engine's JSON shape (schema 1), for pure-logic tests of history and the bot.
import type { ReportLike, ReportCheckLike } from '../../src/store';
import type { Grade } from '../../src/tester/types';

export function fakeReport(opts: { overall?: Grade; ipv6?: Grade; fails?: string[]; security?: string[]; verdict?: 'ok' | 'warn' | 'unsafe' } = {}): ReportLike & { extra: unknown } {
  const uri = 'turn:127.0.0.1:3478?transport=udp';
  const checks: ReportCheckLike[] = [
    { id: 'HS-1', uri: null, family: null, status: 'pass', severity: null, summary: 'TURN credentials handed out', hint: null },
    { id: 'STUN-1', uri, family: 'ipv4', status: 'pass', severity: null, summary: 'Binding answered', hint: null },
  ];
  for (const id of opts.fails ?? []) {
    checks.push({ id, uri, family: 'ipv4', status: 'fail', severity: 'high', summary: `${id} failed`, hint: `fix ${id}`, cause: 'x' });
  }
  return {
    startedAt: '2026-01-01T08:00:00.000Z',
    durationMs: 1234,
    source: { kind: 'homeserver', homeserver: 'http://127.0.0.1:8008' },
    grade: { ipv4: opts.overall ?? 'Good', ipv6: opts.ipv6 ?? 'Fail', overall: opts.overall ?? 'Good', whyNotHigher: [] },
    security: { verdict: opts.verdict ?? 'ok', findings: opts.security ?? [] },
    uris: [{ uri }],
    checks,
    // Defence in depth: secret-shaped keys never reach the database.
    extra: { password: 'hunter2', accessToken: 'syt_abc' },
  };
}
