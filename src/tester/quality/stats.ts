// Pure statistics of a QUAL-1 window: percentiles, the RFC 3550 interarrival
// jitter estimator, loss and reordering. One clock (both ends are this process),
// so one-way delays are measured, not estimated.

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1]!;
}

/**
 * RFC 3550 section 6.4.1: J += (|D(i-1,i)| - J) / 16, where D is the change in
 * transit time (arrival - send) between consecutive arrivals, in arrival order.
 */
export class JitterEstimator {
  private prevTransit: number | null = null;
  private j = 0;
  add(sendMs: number, arriveMs: number): void {
    const transit = arriveMs - sendMs;
    if (this.prevTransit !== null) {
      const d = Math.abs(transit - this.prevTransit);
      this.j += (d - this.j) / 16;
    }
    this.prevTransit = transit;
  }
  get value(): number {
    return this.j;
  }
}

/** Per-direction receive bookkeeping: unique arrivals, duplicates, reordering, delays, jitter. */
export class DirectionStats {
  private readonly seen: Uint8Array;
  private maxSeq = -1;
  readonly delays: number[] = [];
  readonly jitter = new JitterEstimator();
  received = 0;
  duplicates = 0;
  reordered = 0;
  bytes = 0;

  constructor(capacity: number) {
    this.seen = new Uint8Array(capacity);
  }

  /** Record one arrival; false for a duplicate or an out-of-range sequence number. */
  arrive(seq: number, sendMs: number, arriveMs: number, bytes: number): boolean {
    if (seq < 0 || seq >= this.seen.length) return false;
    if (this.seen[seq]) {
      this.duplicates++;
      return false;
    }
    this.seen[seq] = 1;
    this.received++;
    this.bytes += bytes;
    // Reordered: arrives after a later-sent packet (RFC 4737's simple test).
    if (seq < this.maxSeq) this.reordered++;
    else this.maxSeq = seq;
    this.delays.push(arriveMs - sendMs);
    this.jitter.add(sendMs, arriveMs);
    return true;
  }

  has(seq: number): boolean {
    return seq >= 0 && seq < this.seen.length && this.seen[seq] === 1;
  }
}

/** Percentage of `sent` that never arrived; 0 when nothing was sent. */
export function lossPct(sent: number, received: number): number {
  return sent <= 0 ? 0 : (100 * Math.max(0, sent - received)) / sent;
}

export function round(v: number, digits = 2): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
