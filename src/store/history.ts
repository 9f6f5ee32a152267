// Run history in SQLite (better-sqlite3, WAL, versioned migrations).
// Never stores credentials: the report is serialised through a replacer that
// redacts anything secret-shaped, and no credential field exists in the schema.
// A failed write (disk full, read-only, I/O error) raises StoreError with a
// sentence for the user; the run is kept in memory and written with the next
// successful save, so nothing is lost silently.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Family, Grade, Severity, SourceKind, Status } from '../tester/types';
import { MIGRATIONS } from './migrations';
import type { ReportLike, SecurityVerdict } from './report-shape';

export type Trigger = 'command' | 'schedule' | 'browser';

export interface RunInput {
  trigger: Trigger;
  roomId: string | null;
  requester: string | null;
  targetKey: string;
  sourceKind: SourceKind;
  /** The report (absent when the run failed to start or crashed). */
  report?: ReportLike;
  /** Why there is no report (a sentence without secrets). */
  error?: string;
  startedAt?: string;
  durationMs?: number;
}

export interface RunRow {
  id: number;
  startedAt: string;
  trigger: Trigger;
  roomId: string | null;
  requester: string | null;
  targetKey: string;
  sourceKind: SourceKind;
  grades: { overall: Grade; ipv4: Grade; ipv6: Grade } | null;
  securityVerdict: SecurityVerdict | null;
  securityFindings: string[];
  durationMs: number | null;
  error: string | null;
}

export interface FindingRow {
  checkId: string;
  uri: string | null;
  family: Family | null;
  status: Status;
  severity: Severity | null;
  cause: string | null;
}

const USER_MESSAGES: Record<string, string> = {
  SQLITE_FULL: 'the disk holding the history database is full',
  SQLITE_READONLY: 'the history database is read-only',
  SQLITE_IOERR: 'the history database had an I/O error',
  SQLITE_CANTOPEN: 'the history database cannot be opened',
  SQLITE_CORRUPT: 'the history database is damaged',
  SQLITE_BUSY: 'the history database is locked by another process',
};

export class StoreError extends Error {
  constructor(readonly code: string, readonly userMessage: string) {
    super(userMessage);
    this.name = 'StoreError';
  }
}

function toStoreError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const code = String((e as { code?: unknown })?.code ?? 'SQLITE_ERROR');
  const base = Object.keys(USER_MESSAGES).find((k) => code === k || code.startsWith(`${k}_`));
  return new StoreError(code, base ? USER_MESSAGES[base]! : `the history database failed (${code})`);
}

const SECRET_KEYS = /password|secret|token|credential/i;

/** JSON of a report with anything secret-shaped redacted (defence in depth). */
export function redactedJson(report: unknown): string {
  return JSON.stringify(report, (k, v) => (k && SECRET_KEYS.test(k) && typeof v !== 'boolean' && v !== null ? '[redacted]' : v));
}

const MAX_PENDING = 200;

export class HistoryStore {
  private readonly db: Database.Database;
  private readonly pending: RunInput[] = [];
  /** Runs dropped because the pending buffer overflowed (reported by status). */
  droppedRuns = 0;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Open (creating the file and directory) and migrate. Throws StoreError. */
  static open(path: string): HistoryStore {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path, { timeout: 2000 });
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      // better-sqlite3 builds SQLite with a 16 MB page cache per connection: the bot's RSS then grows
      // ~60 KB a run until the file passes 16 MB (the soak saw it as a leak). Reads touch recent rows only.
      db.pragma('cache_size = -2000');
      const store = new HistoryStore(db);
      store.migrate();
      return store;
    } catch (e) {
      throw toStoreError(e);
    }
  }

  /** Wrap an existing handle (tests use this to simulate full or read-only databases). */
  static fromDatabase(db: Database.Database): HistoryStore {
    return new HistoryStore(db);
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, new Date().toISOString());
      })();
    }
  }

  get schemaVersion(): number {
    return (this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  private insert(input: RunInput): number {
    const r = input.report;
    const res = this.db.prepare(`INSERT INTO runs (started_at, trigger, room_id, requester, target_key, source_kind,
        grade_overall, grade_ipv4, grade_ipv6, security_verdict, security_findings, duration_ms, error, report_json)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      r?.startedAt ?? input.startedAt ?? new Date().toISOString(),
      input.trigger, input.roomId, input.requester, input.targetKey, r?.source.kind ?? input.sourceKind,
      r?.grade.overall ?? null, r?.grade.ipv4 ?? null, r?.grade.ipv6 ?? null,
      r?.security.verdict ?? null, JSON.stringify(r?.security.findings ?? []),
      r?.durationMs ?? input.durationMs ?? null, input.error ?? null, r ? redactedJson(r) : null,
    );
    const id = Number(res.lastInsertRowid);
    if (r) {
      const ins = this.db.prepare('INSERT INTO findings (run_id, check_id, uri, family, status, severity, cause) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const c of r.checks) ins.run(id, c.id, c.uri, c.family, c.status, c.severity, c.cause ?? null);
    }
    return id;
  }

  /**
   * Save a run (and any run kept from an earlier failed save). Returns its id.
   * On failure the run is kept in memory and StoreError says why.
   */
  saveRun(input: RunInput): number {
    try {
      const id = this.db.transaction(() => {
        for (const p of this.pending) this.insert(p);
        return this.insert(input);
      })();
      this.pending.length = 0;
      return id;
    } catch (e) {
      this.pending.push(input);
      if (this.pending.length > MAX_PENDING) {
        this.pending.shift();
        this.droppedRuns++;
      }
      throw toStoreError(e);
    }
  }

  private row(r: Record<string, unknown>): RunRow {
    return {
      id: r.id as number,
      startedAt: r.started_at as string,
      trigger: r.trigger as Trigger,
      roomId: (r.room_id as string | null) ?? null,
      requester: (r.requester as string | null) ?? null,
      targetKey: r.target_key as string,
      sourceKind: r.source_kind as SourceKind,
      grades: r.grade_overall ? { overall: r.grade_overall as Grade, ipv4: r.grade_ipv4 as Grade, ipv6: r.grade_ipv6 as Grade } : null,
      securityVerdict: (r.security_verdict as SecurityVerdict | null) ?? null,
      securityFindings: JSON.parse((r.security_findings as string) || '[]') as string[],
      durationMs: (r.duration_ms as number | null) ?? null,
      error: (r.error as string | null) ?? null,
    };
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toStoreError(e);
    }
  }

  /** Newest first. */
  recentRuns(opts: { limit: number; roomId?: string; targetKey?: string; trigger?: Trigger }): RunRow[] {
    return this.read(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (opts.roomId) { where.push('room_id = ?'); args.push(opts.roomId); }
      if (opts.targetKey) { where.push('target_key = ?'); args.push(opts.targetKey); }
      if (opts.trigger) { where.push('trigger = ?'); args.push(opts.trigger); }
      const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      return (this.db.prepare(sql).all(...args, Math.max(1, Math.min(opts.limit, 1000))) as Record<string, unknown>[]).map((r) => this.row(r));
    });
  }

  getRun(id: number): RunRow | null {
    return this.read(() => {
      const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Record<string, unknown> | undefined;
      return r ? this.row(r) : null;
    });
  }

  /** The latest run of the same target before `beforeId` that produced a report. */
  previousRun(targetKey: string, beforeId: number): RunRow | null {
    return this.read(() => {
      const r = this.db.prepare('SELECT * FROM runs WHERE target_key = ? AND id < ? AND grade_overall IS NOT NULL ORDER BY id DESC LIMIT 1')
        .get(targetKey, beforeId) as Record<string, unknown> | undefined;
      return r ? this.row(r) : null;
    });
  }

  findings(runId: number): FindingRow[] {
    return this.read(() => (this.db.prepare('SELECT check_id, uri, family, status, severity, cause FROM findings WHERE run_id = ? ORDER BY rowid').all(runId) as Record<string, unknown>[])
      .map((r) => ({
        checkId: r.check_id as string, uri: (r.uri as string | null) ?? null, family: (r.family as Family | null) ?? null,
        status: r.status as Status, severity: (r.severity as Severity | null) ?? null, cause: (r.cause as string | null) ?? null,
      })));
  }

  reportJson(runId: number): string | null {
    return this.read(() => (this.db.prepare('SELECT report_json FROM runs WHERE id = ?').get(runId) as { report_json: string | null } | undefined)?.report_json ?? null);
  }

  getSetting<T>(key: string): T | null {
    return this.read(() => {
      const r = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
      return r ? (JSON.parse(r.value) as T) : null;
    });
  }

  /** Throws StoreError (the caller tells the admin the setting was not saved). */
  setSetting(key: string, value: unknown): void {
    try {
      this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
    } catch (e) {
      throw toStoreError(e);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
