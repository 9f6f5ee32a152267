// Bands -> a QUAL-1 verdict. Pure: the probe turns it into a finding.
import type { Severity, Status } from '../types';
import { BANDS, BROKEN, bandOf, type Band, type Metric } from './profile';
import type { WindowResult } from './session';

export interface Verdict {
  status: Status;
  severity: Severity | null;
  /** Hint cause (hints.ts QUAL-1 rows) of the worst metric. */
  cause: string | undefined;
  bands: Record<Metric, Band>;
  /** The worse direction's value per metric (what the bands judged). */
  values: Record<Metric, number>;
  summary: string;
}

/** The hint cause of each metric (hints.ts QUAL-1 rows). */
export const CAUSE: Record<Metric, string> = { delay: 'high-rtt', jitter: 'jitter', loss: 'loss' };
/** Which bad metric names the cause when several are bad (loss hurts calls most). */
const PRIORITY: Metric[] = ['loss', 'delay', 'jitter'];

function fmt(metric: Metric, v: number): string {
  return metric === 'loss' ? `${v.toFixed(v < 10 ? 1 : 0)} %` : `${v.toFixed(v < 10 ? 1 : 0)} ms`;
}

export function judge(w: WindowResult): Verdict {
  const values: Record<Metric, number> = {
    // One-way delay: the typical (p50) value of the slower direction.
    delay: Math.max(w.up.oneWayMs.p50 || 0, w.down.oneWayMs.p50 || 0),
    jitter: Math.max(w.up.jitterMs, w.down.jitterMs),
    loss: Math.max(w.up.lossPct, w.down.lossPct),
  };
  const bands = { delay: bandOf('delay', values.delay), jitter: bandOf('jitter', values.jitter), loss: bandOf('loss', values.loss) };
  const numbers = `one-way delay ${fmt('delay', values.delay)}, jitter ${fmt('jitter', values.jitter)}, loss up ${fmt('loss', w.up.lossPct)} / down ${fmt('loss', w.down.lossPct)}, RTT p50 ${w.rttMs.p50.toFixed(1)} ms`;

  if (w.up.received === 0 || w.down.received === 0) {
    const leg = w.up.received === 0 ? 'client -> relay -> peer' : 'peer -> relay -> client';
    return { status: 'fail', severity: 'high', cause: 'loss', bands, values, summary: `No ${w.profile} packet came through the relay (${leg}) during the ${Math.round(w.windowMs / 1000)} s window.` };
  }
  const bad = PRIORITY.filter((m) => bands[m] === 'bad');
  if (bad.length === 0) {
    const acceptable = PRIORITY.filter((m) => bands[m] === 'acceptable');
    const what = acceptable.length ? `acceptable for calls (${acceptable.map((m) => BANDS[m].label).join(', ')} above the good band)` : 'good for calls';
    return { status: 'pass', severity: null, cause: undefined, bands, values, summary: `Path through the relay is ${what}: ${numbers}.` };
  }
  const broken = bad.some((m) => values[m] > BROKEN[m]);
  const worst = bad[0]!;
  const limits = bad.map((m) => `${BANDS[m].label} ${fmt(m, values[m])} > ${BANDS[m].acceptable} ${BANDS[m].unit}`).join(', ');
  return {
    status: broken ? 'fail' : 'warn',
    severity: broken ? 'high' : 'medium',
    cause: CAUSE[worst],
    bands,
    values,
    summary: `Calls through this relay would suffer: ${limits} (${numbers}).`,
  };
}
