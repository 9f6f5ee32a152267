// matrix-bot-sdk's LogService routed through our logger (src/ops/log.ts, which
// redacts every line). The SDK logs every failed request as an error,
// including ones we expect and handle (404 on state lookups, 429, the
// homeserver restarting); those go to debug, everything else keeps its level.
import { LogService, LogLevel } from 'matrix-bot-sdk';
import type { Level, Logger } from '../ops/log';

function describe(parts: unknown[]): string {
  return parts.map((p) => {
    if (typeof p === 'string') return p;
    if (p instanceof Error) return `${p.name}: ${p.message}`;
    const e = p as { statusCode?: number; errcode?: string; body?: { errcode?: string; error?: string } } | null;
    if (e && (e.errcode || e.body?.errcode)) return `MatrixError ${e.statusCode ?? ''} ${e.errcode ?? e.body?.errcode} ${e.body?.error ?? ''}`.trim();
    try { return JSON.stringify(p)?.slice(0, 500) ?? String(p); } catch { return String(p); }
  }).join(' ');
}

// "flows": the 401 that opens user-interactive auth (the crypto setup answers it with the password).
const EXPECTED = /M_NOT_FOUND|M_LIMIT_EXCEEDED|M_FORBIDDEN|ECONNREFUSED|socket hang up|ECONNRESET|"flows":\[/;

export function adoptSdkLogging(log: Logger): void {
  const sdk = log.child({ component: 'sdk' });
  const to = (level: Level) => (module: string, ...parts: unknown[]) => {
    const msg = describe(parts);
    const lvl: Level = level === 'error' && EXPECTED.test(msg) ? 'debug' : level;
    if (sdk.enabled(lvl)) sdk[lvl](`sdk: ${msg}`, { module });
  };
  LogService.setLogger({ info: to('debug'), warn: to('warn'), error: to('error'), debug: () => undefined, trace: () => undefined });
  LogService.setLevel(LogLevel.INFO);
  LogService.muteModule('Metrics');
}
