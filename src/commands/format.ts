// Small text helpers shared by the commands.
import type { RunRow } from '../store';
import { GRADE_ORDER } from '../store';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** "2026-01-01 08:00 UTC" (compact; minutes are enough for a trend). */
export function formatTime(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** ↑ better, ↓ worse, = same, blank when either side has no grade. */
export function trendArrow(prev: RunRow | undefined, cur: RunRow): string {
  if (!prev?.grades || !cur.grades) return ' ';
  const a = GRADE_ORDER.indexOf(prev.grades.overall);
  const b = GRADE_ORDER.indexOf(cur.grades.overall);
  return b < a ? '↑' : b > a ? '↓' : '=';
}

export function runLine(r: RunRow, prev: RunRow | undefined): string {
  const what = r.grades
    ? `${trendArrow(prev, r)} ${r.grades.overall} (IPv4 ${r.grades.ipv4}, IPv6 ${r.grades.ipv6}), security ${r.securityVerdict ?? '?'}`
    : `no report: ${r.error ?? 'unknown error'}`;
  const target = r.targetKey.replace(/^hs:/, '').replace(/^uris:/, '');
  return `#${r.id} ${formatTime(r.startedAt)} ${r.trigger} ${target.slice(0, 60)}: ${what}`;
}
