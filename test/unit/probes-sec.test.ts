// SEC-1: version parsing, the fixed-CVE table and the judgement.
import { compareVersions, COTURN_CVES, judgeSoftware, knownVulnerabilities, parseCoturnVersion } from '../../src/tester/probes/server-version';
import { hintFor } from '../../src/tester/hints';

describe('SEC-1 version table', () => {
  test('parses coturn SOFTWARE strings', () => {
    expect(parseCoturnVersion("Coturn-4.6.1 'Gorst'")).toEqual([4, 6, 1]);
    expect(parseCoturnVersion('Coturn-4.5.1.3 \'dan Eider\'')).toEqual([4, 5, 1, 3]);
    expect(parseCoturnVersion('coturn/4.10.0')).toEqual([4, 10, 0]);
    expect(parseCoturnVersion('pion/turn')).toBeNull();
    expect(parseCoturnVersion('Coturn')).toBeNull();
    expect(parseCoturnVersion('')).toBeNull();
  });

  test('compares numerically, not as strings', () => {
    expect(compareVersions([4, 10, 0], [4, 9, 0])).toBe(1);
    expect(compareVersions([4, 5, 1, 3], [4, 5, 2])).toBe(-1);
    expect(compareVersions([4, 5, 2], [4, 5, 2, 0])).toBe(0);
  });

  test('lines a version is below', () => {
    expect(knownVulnerabilities([4, 5, 1, 3]).map((l) => l.fixedIn)).toEqual(['4.5.2', '4.9.0', '4.10.0']);
    expect(knownVulnerabilities([4, 6, 1]).map((l) => l.fixedIn)).toEqual(['4.9.0', '4.10.0']);
    expect(knownVulnerabilities([4, 10, 0])).toEqual([]);
    expect(knownVulnerabilities([4, 5, 0, 8]).some((l) => l.cves.includes('CVE-2018-4058'))).toBe(true);
    // Every line cites at least one CVE and a parseable version.
    for (const l of COTURN_CVES) {
      expect(l.cves.length).toBeGreaterThan(0);
      expect(l.fixedIn).toMatch(/^\d+(\.\d+)+$/);
    }
  });
});

describe('SEC-1 judgement', () => {
  test('nothing disclosed: pass', () => {
    expect(judgeSoftware(new Map()).status).toBe('pass');
  });

  test('a current coturn or another server: warn disclosed', () => {
    const f = judgeSoftware(new Map([['192.0.2.1:3478', 'Coturn-4.10.0 \'x\'']]));
    expect(f).toMatchObject({ status: 'warn', severity: 'low', cause: 'disclosed' });
    expect(f.hint).toContain('no-software-attribute');
    expect(judgeSoftware(new Map([['a', 'pion/turn']])).cause).toBe('disclosed');
  });

  test('Debian 4.6.1: fail high, upgrade target 4.10.0', () => {
    const f = judgeSoftware(new Map([['192.0.2.1:3478', "Coturn-4.6.1 'Gorst'"], ['[2001:db8::1]:3478', "Coturn-4.6.1 'Gorst'"]]));
    expect(f).toMatchObject({ status: 'fail', severity: 'high', cause: 'vulnerable' });
    expect(f.evidence.cves).toEqual(expect.arrayContaining(['CVE-2026-27624']));
    expect(f.hint).toContain('coturn 4.10.0');
    expect(f.hint).toContain("Coturn-4.6.1 'Gorst'");
  });

  test('before 4.5.2: critical (CVE-2020-26262)', () => {
    const f = judgeSoftware(new Map([['s', 'Coturn-4.5.1.1 \'dan Eider\'']]));
    expect(f.severity).toBe('critical');
    expect(f.evidence.cves).toEqual(expect.arrayContaining(['CVE-2020-26262']));
  });

  test('hostile SOFTWARE is capped and flattened; the hint is sanitised', () => {
    const evil = `Coturn-4.6.1 <script>alert(1)</script>\n${'A'.repeat(500)}`;
    const f = judgeSoftware(new Map([['s', evil]]));
    expect(String(f.evidence.version).length).toBeLessThanOrEqual(80);
    expect(String(f.evidence.version)).not.toContain('\n');
    expect(f.hint).not.toMatch(/[<>]/);
    expect(hintFor('SEC-1', 'vulnerable', f.evidence)).toBe(f.hint);
  });
});
