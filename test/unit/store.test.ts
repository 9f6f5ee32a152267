import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore, StoreError, diffRuns, describeDiff, targetKey } from '../../src/store';
import { Secret } from '../../src/tester/secret';
import { fakeReport } from './bot-fixture';

describe('history store (real SQLite file)', () => {
  let dir: string;
  let store: HistoryStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mxv-store-'));
    store = HistoryStore.open(join(dir, 'sub', 'history.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = { trigger: 'command' as const, roomId: '!r:hs', requester: '@u:hs', targetKey: 'hs:http://127.0.0.1:8008', sourceKind: 'homeserver' as const };

  test('WAL and migrations; reopening does not re-apply', () => {
    expect(store.schemaVersion).toBe(1);
    store.close();
    const db = new Database(join(dir, 'sub', 'history.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    store = HistoryStore.open(join(dir, 'sub', 'history.db'));
    expect(store.schemaVersion).toBe(1);
  });

  test('a browser helper run: trigger browser, source shared, the browser section kept, no secrets', () => {
    const browser = { userAgent: 'Chrome/156', perUri: [{ uri: 'turn:127.0.0.1:3478?transport=udp', candidates: { host: 1, srflx: 0, relay: 1 }, relayOnly: 1, errors: [], dataChannel: { ok: true, rttMs: 1.5, connectMs: 300, selectedPair: null, error: null } }] };
    const report = { ...fakeReport(), source: { kind: 'shared' as const, homeserver: 'https://other.example' }, browser };
    const id = store.saveRun({ ...base, trigger: 'browser', targetKey: 'hs:https://other.example', sourceKind: 'shared', report });
    expect(store.getRun(id)).toMatchObject({ trigger: 'browser', sourceKind: 'shared', targetKey: 'hs:https://other.example' });
    const json = JSON.parse(store.reportJson(id)!) as { browser: typeof browser };
    expect(json.browser).toEqual(browser);
    expect(store.reportJson(id)).not.toMatch(/hunter2|syt_abc/);
    expect(store.recentRuns({ limit: 5, trigger: 'browser' }).map((r) => r.id)).toEqual([id]);
  });

  test('saves runs with findings, no secrets in the row', () => {
    const id = store.saveRun({ ...base, report: fakeReport({ fails: ['DATA-1'] }) });
    const run = store.getRun(id)!;
    expect(run.grades).toEqual({ overall: 'Good', ipv4: 'Good', ipv6: 'Fail' });
    expect(run.requester).toBe('@u:hs');
    expect(store.findings(id).map((f) => [f.checkId, f.status])).toEqual([['HS-1', 'pass'], ['STUN-1', 'pass'], ['DATA-1', 'fail']]);
    const json = store.reportJson(id)!;
    expect(json).not.toContain('hunter2');
    expect(json).not.toContain('syt_abc');
    expect(JSON.parse(json).grade.overall).toBe('Good');
  });

  test('a run without a report (refused) is kept with its reason', () => {
    const id = store.saveRun({ ...base, error: 'target refused' });
    expect(store.getRun(id)).toMatchObject({ grades: null, error: 'target refused' });
    expect(store.previousRun(base.targetKey, id + 1)).toBeNull();
  });

  test('recent runs, previous run of the same target, settings', () => {
    const a = store.saveRun({ ...base, report: fakeReport() });
    store.saveRun({ ...base, targetKey: 'uris:turn:x', report: fakeReport() });
    const c = store.saveRun({ ...base, trigger: 'schedule', report: fakeReport({ overall: 'Poor' }) });
    expect(store.recentRuns({ limit: 10 }).map((r) => r.id)).toEqual([c, c - 1, a]);
    expect(store.recentRuns({ limit: 10, trigger: 'schedule' }).map((r) => r.id)).toEqual([c]);
    expect(store.previousRun(base.targetKey, c)!.id).toBe(a);
    store.setSetting('schedule', { cron: '0 9 * * *', timezone: 'UTC', rooms: ['!a:hs'] });
    expect(store.getSetting('schedule')).toEqual({ cron: '0 9 * * *', timezone: 'UTC', rooms: ['!a:hs'] });
    expect(store.getSetting('nope')).toBeNull();
  });

  test('disk full: a clear error, the run kept and written once space frees', () => {
    store.close();
    const db = new Database(join(dir, 'sub', 'history.db'));
    store = HistoryStore.fromDatabase(db);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = fakeReport();
    (big as { extra: unknown }).extra = 'x'.repeat(100_000);
    let err: unknown;
    try { store.saveRun({ ...base, report: big }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).userMessage).toBe('the disk holding the history database is full');
    expect(store.pendingCount).toBe(1);
    db.pragma('max_page_count = 1000000');
    const id = store.saveRun({ ...base, report: fakeReport() });
    expect(store.pendingCount).toBe(0);
    expect(store.recentRuns({ limit: 10 }).map((r) => r.id)).toEqual([id, id - 1]);
  });

  test('read-only database: a clear error', () => {
    store.saveRun({ ...base, report: fakeReport() });
    store.close();
    store = HistoryStore.fromDatabase(new Database(join(dir, 'sub', 'history.db'), { readonly: true }));
    expect(() => store.saveRun({ ...base, report: fakeReport() })).toThrow('the history database is read-only');
    expect(() => store.setSetting('k', 1)).toThrow(StoreError);
    expect(store.recentRuns({ limit: 5 })).toHaveLength(1);
  });

  test('an unopenable path is a StoreError', () => {
    writeFileSync(join(dir, 'file'), 'not a directory');
    expect(() => HistoryStore.open(join(dir, 'file', 'history.db'))).toThrow(StoreError);
  });

  test('diffRuns: grade changes, new/resolved failures, new security findings', () => {
    const p = store.saveRun({ ...base, report: fakeReport({ overall: 'Great', fails: ['DATA-1'] }) });
    const c = store.saveRun({ ...base, report: fakeReport({ overall: 'Poor', fails: ['ACL-1'], security: ['ACL-1'], verdict: 'unsafe' }) });
    const d = diffRuns({ run: store.getRun(p)!, findings: store.findings(p) }, { run: store.getRun(c)!, findings: store.findings(c) });
    expect(d.gradeChanges).toEqual([{ scope: 'overall', from: 'Great', to: 'Poor', worse: true }, { scope: 'ipv4', from: 'Great', to: 'Poor', worse: true }]);
    expect(d.newFailures.map((f) => f.checkId)).toEqual(['ACL-1']);
    expect(d.resolvedFailures.map((f) => f.checkId)).toEqual(['DATA-1']);
    expect(d.newSecurityFindings).toEqual(['ACL-1']);
    expect(d.regression).toBe(true);
    expect(describeDiff(d)).toContain('Overall grade dropped: Great → Poor');
    const same = diffRuns({ run: store.getRun(c)!, findings: store.findings(c) }, { run: store.getRun(c)!, findings: store.findings(c) });
    expect(same).toMatchObject({ changed: false, regression: false });
    const better = diffRuns({ run: store.getRun(c)!, findings: store.findings(c) }, { run: store.getRun(p)!, findings: store.findings(p) });
    expect(better.regression).toBe(true); // DATA-1 is a new failure there
    expect(better.gradeChanges[0]).toMatchObject({ worse: false });
  });

  test('targetKey: homeserver, or the sorted URI set', () => {
    expect(targetKey({ kind: 'homeserver', homeserver: 'https://HS.example.org/' })).toBe('hs:https://hs.example.org');
    expect(targetKey({ kind: 'secret', uris: ['turn:b', 'turn:a', 'turn:b'], secret: new Secret('s') })).toBe('uris:turn:a turn:b');
  });
});
