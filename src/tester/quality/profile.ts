// QUAL-1 profiles (what a call would send) and bands (what a call tolerates).
// Data, not code: tests and the bench use custom profiles of the same shape.
import type { QualityProfile } from '../options';

export interface PacingProfile {
  name: string;
  /** Packets per second, per direction. */
  rate: number;
  /** Payload bytes per packet. */
  size: number;
  durationMs: number;
}

export const PROFILES: Record<Exclude<QualityProfile, 'off'>, PacingProfile> = {
  // Opus at 20 ms frames: 50 packets/s of about 160 bytes.
  audio: { name: 'audio', rate: 50, size: 160, durationMs: 5000 },
  // 2.5 Mbit/s in 1200-byte packets (MTU-safe media): 2.5e6 / 8 / 1200 = 260.4/s.
  video: { name: 'video', rate: Math.round(2_500_000 / 8 / 1200), size: 1200, durationMs: 5000 },
};

export type Band = 'good' | 'acceptable' | 'bad';
export type Metric = 'delay' | 'jitter' | 'loss';

/** Upper bounds of good and acceptable; above acceptable is bad (issue 6). */
export const BANDS: Record<Metric, { good: number; acceptable: number; unit: string; label: string }> = {
  delay: { good: 100, acceptable: 200, unit: 'ms', label: 'one-way delay' },
  jitter: { good: 10, acceptable: 30, unit: 'ms', label: 'jitter' },
  loss: { good: 0.5, acceptable: 3, unit: '%', label: 'loss' },
};

/** Beyond these a call is not just poor but broken: the finding is a fail, not a warn. */
export const BROKEN: Record<Metric, number> = { delay: 400, jitter: 100, loss: 10 };

export function bandOf(metric: Metric, value: number): Band {
  const b = BANDS[metric];
  return value <= b.good ? 'good' : value <= b.acceptable ? 'acceptable' : 'bad';
}
