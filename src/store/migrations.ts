// Versioned schema: append new entries, never edit an applied one.
export interface Migration {
  version: number;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at TEXT NOT NULL,
        trigger TEXT NOT NULL CHECK (trigger IN ('command', 'schedule', 'browser')),
        room_id TEXT,
        requester TEXT,
        target_key TEXT NOT NULL,
        source_kind TEXT NOT NULL,
        grade_overall TEXT,
        grade_ipv4 TEXT,
        grade_ipv6 TEXT,
        security_verdict TEXT,
        security_findings TEXT NOT NULL DEFAULT '[]',
        duration_ms INTEGER,
        error TEXT,
        report_json TEXT
      );
      CREATE INDEX runs_by_target ON runs (target_key, id);
      CREATE INDEX runs_by_room ON runs (room_id, id);
      CREATE TABLE findings (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        check_id TEXT NOT NULL,
        uri TEXT,
        family TEXT,
        status TEXT NOT NULL,
        severity TEXT,
        cause TEXT
      );
      CREATE INDEX findings_by_run ON findings (run_id);
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
];
