// The check registry: every catalogue id (../shared/CHECKS.md when present,
// else the ids table in checks.ts) has exactly one definition, each in scope
// order after what it needs, and a hint row for each failure cause it reports.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_IDS, CHECKS, type CheckId } from '../../src/tester/checks';
import { causesFor } from '../../src/tester/hints';
import type { AnyCheckDef } from '../../src/tester/probes/check';
import { CHECK_DEFS, selectChecks } from '../../src/tester/probes/registry';

const SHARED = join(__dirname, '../../../shared/CHECKS.md');
const PROBES = join(__dirname, '../../src/tester/probes');

/** Causes written in a probe file that only ever become a skip (no hint needed). */
const SKIP_ONLY: Record<string, string[]> = { 'e2e.ts': ['engine-error'] };

function catalogueIds(): string[] {
  if (!existsSync(SHARED)) return [...CHECK_IDS];
  const ids = [...readFileSync(SHARED, 'utf8').matchAll(/^\| ([A-Z0-9]+-\d+) \|/gm)].map((m) => m[1]!);
  return [...new Set(ids)];
}

/** The cause literals written in each probe file, and the ids that file defines or emits. */
function probeFiles(): { file: string; src: string; ids: Set<string> }[] {
  return readdirSync(PROBES)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => {
      const src = readFileSync(join(PROBES, f), 'utf8');
      const ids = new Set(CHECK_DEFS.filter((d) => new RegExp(`\\bid: '${d.id}'|aclCheck\\('${d.id}'\\)`).test(src)).flatMap((d) => [d.id, ...(d.emits ?? [])]));
      return { file: f, src, ids };
    });
}

describe('check registry', () => {
  it('defines every catalogue id exactly once', () => {
    const defined = CHECK_DEFS.map((d) => d.id);
    expect(new Set(defined).size).toBe(defined.length);
    const missing = catalogueIds().filter((id) => !defined.includes(id as CheckId));
    expect(missing).toEqual([]);
    expect([...CHECK_IDS].sort()).toEqual([...defined].sort());
  });

  it('puts each check after the checks of its scope that it needs', () => {
    const order = new Map(CHECK_DEFS.map((d, i) => [d.id, i]));
    const byId = new Map(CHECK_DEFS.map((d) => [d.id, d]));
    for (const d of CHECK_DEFS) {
      for (const n of [...(d.needs ?? []), ...(d.after ?? [])]) {
        expect([d.id, byId.has(n)]).toEqual([d.id, true]);
        if (byId.get(n)!.scope === d.scope) expect([d.id, n, order.get(n)! < order.get(d.id)!]).toEqual([d.id, n, true]);
      }
    }
  });

  it('has a hint row for every failure cause a definition reports', () => {
    const lacking: string[] = [];
    for (const d of CHECK_DEFS) {
      if (!causesFor(d.id).includes('default')) lacking.push(`${d.id}/default`);
      for (const c of d.causes ?? []) if (!causesFor(d.id).includes(c)) lacking.push(`${d.id}/${c}`);
    }
    for (const { file, src, ids } of probeFiles()) {
      if (ids.size === 0) continue;
      for (const m of src.matchAll(/cause: '([a-z0-9-]+)'/g)) {
        if (SKIP_ONLY[file]?.includes(m[1]!)) continue;
        if (![...ids].some((id) => causesFor(id as CheckId).includes(m[1]!))) lacking.push(`${file}: ${m[1]}`);
      }
    }
    expect(lacking).toEqual([]);
  });

  it('marks security checks in the catalogue, and the definitions agree on scope', () => {
    const security = CHECK_IDS.filter((id) => (CHECKS[id] as { security?: boolean }).security);
    expect(security).toEqual(expect.arrayContaining(['AUTH-1', 'ACL-1', 'ACL-4', 'TCPR-1', 'SEC-1', 'STUN-2']));
    // The MatrixRTC session unit is once per run, like 'run'.
    const runsPer = (d: AnyCheckDef) => (d.scope === 'rtc-session' ? 'run' : d.scope);
    // A definition runs per its finding scope, except checks judged across the whole run.
    for (const d of CHECK_DEFS) if (runsPer(d) !== CHECKS[d.id].scope) expect([d.id, runsPer(d)]).toEqual([d.id, 'run']);
  });

  it('--only runs the selected checks and what they need, nothing else', () => {
    const ids = selectChecks(['DATA-1']).map((d) => d.id);
    expect(ids).toEqual(['NET-1', 'TLS-1', 'TLS-2', 'STUN-1', 'AUTH-2', 'ALLOC-1', 'DATA-1']);
    expect(selectChecks(['SEC-1']).map((d) => d.id)).not.toContain('ALLOC-4');
    expect(selectChecks().length).toBe(CHECK_DEFS.length);
  });
});

describe('runner', () => {
  const { RunContext, RunUnit } = jest.requireActual('../../src/tester/probes/context') as typeof import('../../src/tester/probes/context');
  const { runChecks } = jest.requireActual('../../src/tester/probes/runner') as typeof import('../../src/tester/probes/runner');
  const { finding } = jest.requireActual('../../src/tester/probes/finding') as typeof import('../../src/tester/probes/finding');
  const { DEFAULT_CHECK_OPTIONS } = jest.requireActual('../../src/tester/options') as typeof import('../../src/tester/options');
  const { Secret } = jest.requireActual('../../src/tester/secret') as typeof import('../../src/tester/secret');
  const unit = () => {
    const ctx = new RunContext({ ...DEFAULT_CHECK_OPTIONS, credentials: { kind: 'explicit', uris: [], username: 'u', password: new Secret('p') } }, { uris: [], username: 'u', password: new Secret('p'), ttl: null, source: { kind: 'explicit' } });
    return new RunUnit(ctx, {}, { uris: [], findings: [] }, [], []);
  };

  it('turns a throwing check into a skip naming an internal error, and skips what needs a failed check', async () => {
    const u = unit();
    const defs = [
      { id: 'HS-1', scope: 'run', run: async () => finding('HS-1', { status: 'fail', cause: 'empty', summary: 'x' }) },
      { id: 'HS-2', scope: 'run', needs: ['HS-1'], run: async () => finding('HS-2', { status: 'pass', summary: 'never' }) },
      { id: 'AUTH-3', scope: 'run', run: async () => { throw new RangeError('bug'); } },
      { id: 'ADV-1', scope: 'run', needs: ['AUTH-3'], run: async () => finding('ADV-1', { status: 'pass', summary: 'never' }) },
    ] as AnyCheckDef[];
    await runChecks(defs, { run: [u] });
    expect(u.findings.map((f) => [f.id, f.status, f.summary])).toEqual([
      ['HS-1', 'fail', 'x'],
      ['HS-2', 'skip', 'not run: HS-1 failed'],
      ['AUTH-3', 'skip', 'not run: internal error (RangeError)'],
      ['ADV-1', 'skip', 'not run: internal error (RangeError)'],
    ]);
  });

  it('holds at most the budget, and "all" waits until nothing else of ours holds an allocation', async () => {
    const units = [unit(), unit(), unit()];
    const ctx = units[0]!.ctx;
    for (const x of units) Object.defineProperty(x, 'ctx', { value: ctx });
    let peak = 0;
    let aloneSeen = true;
    const defs = [
      { id: 'HS-1', scope: 'run', allocations: 2, run: async () => { peak = Math.max(peak, ctx.allocations.inUse); await new Promise((r) => setTimeout(r, 20)); } },
      { id: 'HS-2', scope: 'run', allocations: 'all', run: async () => { aloneSeen &&= ctx.allocations.inUse === ctx.allocations.size; await new Promise((r) => setTimeout(r, 5)); } },
    ] as AnyCheckDef[];
    await runChecks(defs, { run: units });
    expect(peak).toBeLessThanOrEqual(3);
    expect(aloneSeen).toBe(true);
    expect(ctx.allocations.inUse).toBe(0);
  });
});

describe('werift adaptations', () => {
  const { PATCHES, WERIFT_VERSION } = jest.requireActual('../../src/webrtc/werift') as typeof import('../../src/webrtc/werift');
  it('are written for the pinned werift version (an upgrade: re-run the tests PATCHES names)', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.werift).toBe(WERIFT_VERSION);
    expect((JSON.parse(readFileSync(join(__dirname, '../../node_modules/werift/package.json'), 'utf8')) as { version: string }).version).toBe(WERIFT_VERSION);
  });
  it('each name the test that shows the behaviour it fixes', () => {
    for (const p of PATCHES) {
      const [file, name] = p.test.split(': ');
      const text = readFileSync(join(__dirname, '../..', file!), 'utf8');
      expect([p.name, text.includes(name!)]).toEqual([p.name, true]);
    }
  });
});
