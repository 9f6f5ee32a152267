// Our logger: levels, JSON or text lines, and a last-line scrub so tokens,
// passwords and secrets never reach the log even when a library puts them in
// an error message. The SDK's LogService is routed through here.
import { LogService, LogLevel } from 'matrix-bot-sdk';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SCRUB: [RegExp, string][] = [
  [/\b(syt|syd|syr|mct|mat)_[A-Za-z0-9_\-.]+/g, '$1_[redacted]'],
  [/(access_token|password|secret|token|authorization)(["']?\s*[:=]\s*["']?)(Bearer\s+)?[^"'&\s,}]+/gi, '$1$2[redacted]'],
  [/(turns?:)[^@\s/"]+:[^@\s/"]+@/gi, '$1[redacted]@'],
];

export function scrub(s: string): string {
  return SCRUB.reduce((acc, [re, rep]) => acc.replace(re, rep), s);
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(opts: { level: Level; format: 'auto' | 'json' | 'text'; write?: (line: string) => void }): Logger {
  const json = opts.format === 'json' || (opts.format === 'auto' && !process.stdout.isTTY);
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (RANK[level] < RANK[opts.level]) return;
    const time = new Date().toISOString();
    let line: string;
    if (json) line = JSON.stringify({ time, level, msg, ...fields });
    else {
      const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}`;
    }
    write(scrub(line));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

function describe(parts: unknown[]): string {
  return parts.map((p) => {
    if (typeof p === 'string') return p;
    if (p instanceof Error) return `${p.name}: ${p.message}`;
    const e = p as { statusCode?: number; errcode?: string; body?: { errcode?: string; error?: string } } | null;
    if (e && (e.errcode || e.body?.errcode)) return `MatrixError ${e.statusCode ?? ''} ${e.errcode ?? e.body?.errcode} ${e.body?.error ?? ''}`.trim();
    try { return JSON.stringify(p)?.slice(0, 500) ?? String(p); } catch { return String(p); }
  }).join(' ');
}

/**
 * Route matrix-bot-sdk logging through ours. The SDK logs every failed
 * request as an error, including ones we expect and handle (404 on state
 * lookups, 429); those go to debug, everything else keeps its level.
 */
export function adoptSdkLogging(log: Logger): void {
  const expected = /M_NOT_FOUND|M_LIMIT_EXCEEDED|M_FORBIDDEN|ECONNREFUSED|socket hang up|ECONNRESET/;
  const to = (level: Level) => (module: string, ...parts: unknown[]) => {
    const msg = describe(parts);
    const lvl: Level = level === 'error' && expected.test(msg) ? 'debug' : level;
    log[lvl](`sdk: ${msg}`, { module });
  };
  LogService.setLogger({ info: to('debug'), warn: to('warn'), error: to('error'), debug: () => undefined, trace: () => undefined });
  LogService.setLevel(LogLevel.INFO);
  LogService.muteModule('Metrics');
}
