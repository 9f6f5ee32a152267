// Numbers and times as people read them, for every renderer and command:
// milliseconds rounded (integers above 10, one decimal below), durations from
// "85 ms" to "2d 3h", times as "2026-01-01 08:00 UTC".

/** "51.6" -> "52 ms", "0.76" -> "0.8 ms"; null for a missing or non-finite value. */
export function formatMs(ms: number | null | undefined): string | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  return `${roundMs(ms)} ms`;
}

/** The number part of formatMs: an integer at 10 and above, one decimal below. */
function roundMs(ms: number): number {
  return Math.abs(ms) >= 10 ? Math.round(ms) : Math.round(ms * 10) / 10;
}

/** A run's length or an uptime: "85 ms", "4.2 s", "3m 5s", "1h 2m", "2d 3h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return `${m}m ${s % 60}s`;
}

/** "2026-01-01 08:00 UTC" (minutes are enough for a report or a trend). */
export function formatTime(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return String(iso).slice(0, 40);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
