// SEC-1: version disclosure (SOFTWARE) and versions below a fixed-CVE line.
// Sources for the table (checked 2026): GitHub advisories of coturn/coturn and
// NVD entries —
//   CVE-2018-4058  unsafe loopback forwarding by default    fixed 4.5.1.0 (Talos; coturn issue #346)
//   CVE-2018-4056  SQL injection in the web admin           fixed 4.5.1.0
//   CVE-2020-6061/6062  web admin heap overflow / crash      fixed 4.5.1.2 (coturn issue #499)
//   CVE-2020-4067  uninitialised response buffer leaks memory fixed 4.5.1.3 (GHSA-c8r8-8vp5-6gcm)
//   CVE-2020-26262 loopback bypass via 0.0.0.0 / [::1] / [::] fixed 4.5.2   (GHSA-6g6j-r9rf-cm7p)
//   CVE-2026-27624 IPv4-mapped IPv6 bypasses denied-peer-ip  fixed 4.9.0   (GHSA-j8mm-mpf8-gvjg)
//   CVE-2026-40613 misaligned reads crash ARM64 builds (DoS) fixed 4.10.0
//   CVE-2026-43994 stack overflow in OAuth token decoding    fixed 4.10.0 (oauth mode only)
// Distributions sometimes backport fixes without changing the version, so
// the summary says so; the ACL probes measure the bypasses directly.
import type { Finding, Severity } from '../types';
import { defineCheck } from './check';
import { finding } from './finding';

export interface CveLine {
  /** First fixed version. */
  fixedIn: string;
  cves: string[];
  severity: Severity;
  what: string;
}

export const COTURN_CVES: readonly CveLine[] = [
  { fixedIn: '4.5.1.0', cves: ['CVE-2018-4058', 'CVE-2018-4056', 'CVE-2018-4059'], severity: 'critical', what: 'loopback peers allowed by default, admin SQL injection' },
  { fixedIn: '4.5.1.2', cves: ['CVE-2020-6061', 'CVE-2020-6062'], severity: 'high', what: 'web admin heap overflow and crash' },
  { fixedIn: '4.5.1.3', cves: ['CVE-2020-4067'], severity: 'high', what: 'memory disclosure in responses' },
  { fixedIn: '4.5.2', cves: ['CVE-2020-26262'], severity: 'critical', what: 'loopback ACL bypass via 0.0.0.0 and [::]' },
  { fixedIn: '4.9.0', cves: ['CVE-2026-27624'], severity: 'high', what: 'IPv4-mapped IPv6 peers bypass denied-peer-ip' },
  { fixedIn: '4.10.0', cves: ['CVE-2026-40613', 'CVE-2026-43994'], severity: 'high', what: 'remote crash on ARM64, OAuth token overflow' },
];

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const MAX_SOFTWARE_LEN = 80;

/** "Coturn-4.6.1 'Gorst'" -> [4, 6, 1]; null when it is not coturn or has no version. */
export function parseCoturnVersion(software: string): number[] | null {
  const m = /^\s*coturn[-/ ]v?(\d+(?:\.\d+){1,3})/i.exec(software);
  if (!m) return null;
  return m[1].split('.').map(Number);
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** The CVE lines a version is below. */
export function knownVulnerabilities(version: readonly number[]): CveLine[] {
  return COTURN_CVES.filter((l) => compareVersions(version, l.fixedIn.split('.').map(Number)) < 0);
}

/** Pure judgement over the SOFTWARE strings seen (server "ip:port" -> string). */
export function judgeSoftware(seen: ReadonlyMap<string, string>): Finding {
  if (seen.size === 0) {
    return finding('SEC-1', { status: 'pass', summary: 'No server disclosed its software version (no SOFTWARE attribute).', evidence: {} });
  }
  // Server text: kept short; renderers escape it.
  const byString = new Map<string, string[]>();
  for (const [server, sw] of seen) {
    const s = sw.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, MAX_SOFTWARE_LEN);
    byString.set(s, [...(byString.get(s) ?? []), server]);
  }
  const versions = [...byString.entries()].map(([software, servers]) => ({ software, servers, lines: knownVulnerabilities(parseCoturnVersion(software) ?? [Infinity]) }));
  const disclosed = versions.map((v) => ({ software: v.software, servers: v.servers.slice(0, 10) }));
  const vulnerable = versions.filter((v) => v.lines.length > 0);
  if (vulnerable.length === 0) {
    const version = versions[0].software;
    return finding('SEC-1', { status: 'warn', severity: 'low', cause: 'disclosed', summary: `The server discloses its software version: ${versions.map((v) => v.software).join(', ')}.`, evidence: { version, disclosed } });
  }
  const lines = [...new Map(vulnerable.flatMap((v) => v.lines).map((l) => [l.fixedIn, l])).values()];
  const severity = lines.reduce<Severity>((s, l) => (SEVERITY_RANK[l.severity] > SEVERITY_RANK[s] ? l.severity : s), 'low');
  const fixedIn = lines.map((l) => l.fixedIn).sort((a, b) => compareVersions(a.split('.').map(Number), b.split('.').map(Number))).at(-1)!;
  const cves = lines.flatMap((l) => l.cves);
  const version = vulnerable[0].software;
  return finding('SEC-1', {
    status: 'fail',
    severity,
    cause: 'vulnerable',
    summary: `${vulnerable.map((v) => v.software).join(', ')} is older than coturn ${fixedIn}, which fixes ${cves.join(', ')} (${lines.map((l) => l.what).join('; ')}). A distribution may have backported some fixes.`,
    evidence: { version, fixedIn: `coturn ${fixedIn}`, cves, disclosed },
  });
}

export const SEC_1 = defineCheck({
  id: 'SEC-1',
  scope: 'run',
  needs: ['STUN-1', 'AUTH-2'],
  // Last: every check that talks to a server may see SOFTWARE.
  after: ['AUTH-1', 'ALLOC-2', 'TCPR-1', 'ALLOC-4', 'AUTH-4'],
  run: async (run) => {
    const answered = run.states.some((s) => s.findings.some((f) => (f.id === 'STUN-1' || f.id === 'AUTH-1' || f.id === 'AUTH-2') && f.status !== 'skip'));
    if (!answered && run.ctx.software.size === 0) {
      return finding('SEC-1', { status: 'skip', summary: 'No server answered a STUN/TURN request, so nothing about its software is known.', evidence: { reason: 'no-answer' } });
    }
    return judgeSoftware(run.ctx.software);
  },
});
