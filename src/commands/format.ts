// Small text helpers shared by the commands (escaping, durations and times are
// the renderers' own: one of each, in src/render).
import type { RunRow } from '../store';
import { GRADE_RANK } from '../tester/types';
import { displayUris } from '../ops/defang';
import { formatTime } from '../render/format';

export { htmlEscape } from '../render/escape';
export { formatDuration, formatTime } from '../render/format';

/** ↑ better, ↓ worse, = same, blank when either side has no grade. */
export function trendArrow(prev: RunRow | undefined, cur: RunRow): string {
  if (!prev?.grades || !cur.grades) return ' ';
  const a = GRADE_RANK[prev.grades.overall] ?? 0;
  const b = GRADE_RANK[cur.grades.overall] ?? 0;
  return b > a ? '↑' : b < a ? '↓' : '=';
}

export function runLine(r: RunRow, prev: RunRow | undefined): string {
  const what = r.grades
    ? `${trendArrow(prev, r)} ${r.grades.overall} (IPv4 ${r.grades.ipv4}, IPv6 ${r.grades.ipv6}), security ${r.securityVerdict ?? '?'}`
    : `no report: ${r.error ?? 'unknown error'}`;
  const target = displayUris(r.targetKey.replace(/^hs:/, '').replace(/^uris:/, ''));
  return `#${r.id} ${formatTime(r.startedAt)}, started by: ${r.trigger}, ${target.slice(0, 60)}: ${what}`;
}
