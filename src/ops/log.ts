// The structured logger for the bot and the helper server: one line per event,
// JSON when the stream is not a terminal (log shippers), aligned text when it
// is (people). Every message and field passes through redact.ts first, so no
// call site can print a Secret, a credential-named field, or a registered
// secret value, whatever it passes in.
//
//   const log = createLogger({ level: 'info', format: 'auto' });
//   log.info('run finished', { room, grade: 'Good', durationMs: 812 });
//   const runLog = log.child({ runId });      // bindings repeated on every line
//   log.error('sync failed', { err });        // Errors become {name, message}
import { redactFields, scrubText } from './redact';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'auto' | 'json' | 'text';
export type Fields = Record<string, unknown>;

export const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger that adds `bindings` to every line (e.g. { component: 'scheduler' }). */
  child(bindings: Fields): Logger;
  /** True when `level` would be written (skip building costly fields). */
  enabled(level: Level): boolean;
  readonly level: Level;
}

export interface LogSink {
  write(line: string): unknown;
  isTTY?: boolean;
}

export interface LoggerOptions {
  level?: Level;
  format?: LogFormat;
  /** Default process.stdout. */
  sink?: LogSink;
  bindings?: Fields;
  /** For tests. */
  now?: () => Date;
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** Format one already-redacted record. Exported for tests. */
export function formatLine(json: boolean, time: string, level: Level, msg: string, fields: Fields): string {
  if (json) {
    // Fixed keys first and never overwritten by fields of the same name.
    const { time: _t, level: _l, msg: _m, ...rest } = fields;
    const clash: Fields = {};
    if (_t !== undefined) clash['field.time'] = _t;
    if (_l !== undefined) clash['field.level'] = _l;
    if (_m !== undefined) clash['field.msg'] = _m;
    return JSON.stringify({ time, level, msg, ...rest, ...clash });
  }
  const extra = Object.entries(fields).map(([k, v]) => `${k}=${textValue(v)}`).join(' ');
  // One event, one line: a newline inside a message could forge a second entry.
  const oneLine = msg.replace(/[\r\n]+/g, ' ⏎ ');
  return `${time} ${level.toUpperCase().padEnd(5)} ${oneLine}${extra ? ` ${extra}` : ''}`;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const sink: LogSink = opts.sink ?? process.stdout;
  const format = opts.format ?? 'auto';
  const json = format === 'json' || (format === 'auto' && !sink.isTTY);
  const now = opts.now ?? (() => new Date());
  const make = (bindings: Fields): Logger => {
    const emit = (lvl: Level, msg: string, fields?: Fields) => {
      if (RANK[lvl] < RANK[level]) return;
      try {
        const safe = redactFields({ ...bindings, ...(fields ?? {}) });
        sink.write(`${formatLine(json, now().toISOString(), lvl, scrubText(String(msg)), safe)}\n`);
      } catch {
        // A logger must never take the process down (closed stream, odd input).
      }
    };
    return {
      level,
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (more) => make({ ...bindings, ...more }),
      enabled: (lvl) => RANK[lvl] >= RANK[level],
    };
  };
  return make(opts.bindings ?? {});
}

/** A logger that writes nothing (tests, library defaults). */
export const silentLogger: Logger = createLogger({ level: 'error', sink: { write: () => undefined } });
