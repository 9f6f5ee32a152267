// The report as Matrix messages (summary in the room, details in a thread),
// on reports the scenario lab produced from real coturn servers
// (test/fixtures/reports/*.json, written by the lab's engine run).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadedReport } from '../../src/render';
import { formatDuration, formatMs } from '../../src/render/format';
import { serverRows, serverSections } from '../../src/render/view';
import { CHECKS } from '../../src/tester/checks';
import type { Report } from '../../src/tester/report';
import { sampleReport } from '../fixtures/report-sample';

const load = (name: string): Report => JSON.parse(readFileSync(join(__dirname, '../fixtures/reports', `${name}.json`), 'utf8')) as Report;
const loopback = load('loopback-peers');
const healthy = load('healthy');
const debian = load('debian-defaults');
const ACL1_FIX = 'remove `allow-loopback-peers`';

describe('summary and thread', () => {
  const t = threadedReport(loopback);
  it('one fault: the room message is short and names the fault and its fix once', () => {
    expect(t.summary.body.length).toBeLessThanOrEqual(2000);
    expect(t.summary.body.split(ACL1_FIX)).toHaveLength(2);
    expect(t.summary.html.split('<code>allow-loopback-peers</code>')).toHaveLength(2);
    expect(t.summary.body).toMatch(/^VoIP check of secret credentials: Poor/);
    expect(t.summary.body).toContain('Loopback peers (ACL-1, critical) on turn:turn.lab.test:3478?transport=udp, turn:turn.lab.test:3478?transport=tcp (IPv4, IPv6 relay)');
    expect(t.summary.html).not.toContain('<details');
  });
  it('details go to the thread: run-wide checks and one reply per server', () => {
    expect(t.threadParts).toHaveLength(4);
    expect(t.threadParts[0]!.body).toMatch(/^Homeserver and run-wide checks \(1\/4\)/);
    expect(t.threadParts[2]!.body).toMatch(/^turn:turn\.lab\.test:3478\?transport=udp: IPv4 Poor \(3\/4\)/);
    // Every finding shows up in exactly one thread part.
    const all = t.threadParts.map((p) => p.body).join('\n');
    const lines = all.split('\n').filter((l) => /^- \S+ .+ \([A-Z0-9]+-\d\): /.test(l));
    expect(lines).toHaveLength(loopback.checks.length);
    // The fix is referenced, not repeated, in the details.
    expect(all).not.toContain(ACL1_FIX);
    expect(all).toContain('→ fix 1 of the report');
  });
  it('healthy: Excellent, security ok, no fix list, no lab footnote', () => {
    const h = threadedReport(healthy);
    expect(h.summary.body.split('\n')[0]).toBe('VoIP check of secret credentials: Excellent (IPv4 Excellent; IPv6 Excellent). Security: ok.');
    expect(h.summary.body).toContain('Everything tested works.');
    expect(h.summary.body).not.toMatch(/Fix first|Why not higher|loopback|assume-public/);
  });
  it('identical findings are grouped: each fix once, with the servers it applies to', () => {
    const s = threadedReport(debian).summary.body;
    for (const fix of ['denied-peer-ip=169.254.0.0-169.254.255.255', 'no-tcp-relay']) expect(s.split(fix)).toHaveLength(2);
    expect(debian.checks.filter((c) => c.id === 'ACL-2' && c.status === 'fail').length).toBeGreaterThan(3);
  });
});

describe('headings say what the checks are about', () => {
  it('IPv6-relay checks sit under an "IPv6 relay" heading, never under the IPv4 address', () => {
    const udp = serverSections(loopback).find((s) => s.uri.endsWith('transport=udp'))!;
    const v4 = udp.groups.find((g) => g.heading.startsWith('IPv4'))!;
    const v6relay = udp.groups.find((g) => g.heading === 'IPv6 relay')!;
    expect(v4.heading).toBe('IPv4 198.19.10.12:3478');
    expect(v4.checks.every((c) => (c.evidence as { relayFamily?: string }).relayFamily !== 'ipv6')).toBe(true);
    expect(v6relay.checks.map((c) => c.id)).toEqual(['ALLOC-2', 'ACL-5', 'ACL-1', 'ACL-2', 'ACL-3', 'ACL-4']);
    expect(udp.groups.map((g) => g.heading)).toEqual(['Every address', 'IPv4 198.19.10.12:3478', 'IPv6 relay']);
  });
  it('an IPv6 server section has no bare IPv4 heading', () => {
    for (const s of serverSections(healthy)) {
      const v6 = s.targets.find((t) => t.family === 'ipv6');
      if (v6) expect(s.groups.map((g) => g.heading)).toContain(`IPv6 ${v6.address}`);
      expect(s.groups.map((g) => g.heading)).not.toContain('IPv4');
    }
  });
});

describe('texts agree with each other', () => {
  it('a server failing a critical check is not shown as Excellent under a Poor verdict', () => {
    const rows = serverRows(loopback);
    const udp = rows.find((r) => r.uri.endsWith('transport=udp'))!;
    expect(loopback.uris.find((u) => u.uri === udp.uri)!.grade).toBe('Excellent'); // the engine's per-URI grade
    expect(udp.grade.ipv4).toBe('Poor');
    expect(udp.problem).toMatchObject({ id: 'ACL-1', critical: true, fix: 1 });
    expect(threadedReport(loopback).summary.body).toContain('IPv4 Good, capped at Poor by ACL-1');
  });
  it('a relayed address in a special range is not called public without naming the lab flag', () => {
    const all = threadedReport(loopback).threadParts.map((p) => p.body).join('\n');
    expect(all).not.toMatch(/198\.19\.10\.12 is public/);
    expect(all).toContain('The relayed address 198.19.10.12 is a benchmarking address, treated as public by the lab setting --assume-public (engine.assumePublic).');
  });
  it('check titles are neutral: the result says pass or fail, not the title', () => {
    for (const [id, spec] of Object.entries(CHECKS)) expect([id, spec.title]).not.toEqual([id, expect.stringMatching(/\b(denied|off|accepted|is public|No )\b/)]);
  });
});

describe('numbers for people', () => {
  it('ms: integers from 10 up, one decimal below', () => {
    expect(formatMs(51.59434299999998)).toBe('52 ms');
    expect(formatMs(0.7633239999995567)).toBe('0.8 ms');
    expect(formatMs(10)).toBe('10 ms');
    expect(formatMs(null)).toBeNull();
    expect(formatDuration(4321)).toBe('4.3 s');
    expect(formatDuration(3_725_000)).toBe('1h 2m');
  });
  it('no long decimals anywhere in the messages', () => {
    for (const r of [loopback, healthy, debian, sampleReport()]) {
      const t = threadedReport(r);
      for (const p of [t.summary, ...t.threadParts]) expect(p.body).not.toMatch(/\d\.\d{2,} ?ms/);
    }
    expect(threadedReport(loopback).threadParts[3]!.body).toContain('connect 0.8 ms');
  });
});
