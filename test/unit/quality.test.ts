import { judge } from '../../src/tester/quality/judge';
import { BANDS, bandOf, PROFILES } from '../../src/tester/quality/profile';
import type { DirectionSummary, WindowResult } from '../../src/tester/quality/session';
import { DirectionStats, JitterEstimator, lossPct, percentile } from '../../src/tester/quality/stats';

describe('percentile (nearest rank)', () => {
  it('handles empty, single and ordered sets', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(percentile([7], 95)).toBe(7);
    const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1 unsorted
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 95)).toBe(95);
    expect(percentile(v, 100)).toBe(100);
  });
});

describe('RFC 3550 jitter', () => {
  it('is zero for constant transit time', () => {
    const j = new JitterEstimator();
    for (let i = 0; i < 100; i++) j.add(i * 20, i * 20 + 30);
    expect(j.value).toBe(0);
  });
  it('converges to the mean |D| for alternating transit', () => {
    // transit alternates 10/20 ms: |D| = 10 every packet, J -> 10.
    const j = new JitterEstimator();
    for (let i = 0; i < 500; i++) j.add(i * 20, i * 20 + (i % 2 ? 20 : 10));
    expect(j.value).toBeCloseTo(10, 3);
  });
  it('follows the 1/16 gain exactly for one step', () => {
    const j = new JitterEstimator();
    j.add(0, 5);
    j.add(20, 41); // D = 16
    expect(j.value).toBe(1);
  });
});

describe('DirectionStats', () => {
  it('counts loss, duplicates and reordering', () => {
    const d = new DirectionStats(10);
    for (const seq of [0, 1, 3, 2, 2, 5, 4, 9]) d.arrive(seq, seq * 20, seq * 20 + 1, 100);
    expect(d.received).toBe(7);
    expect(d.duplicates).toBe(1);
    expect(d.reordered).toBe(2); // 2 after 3, 4 after 5
    expect(lossPct(10, d.received)).toBeCloseTo(30);
    expect(d.arrive(10, 0, 1, 1)).toBe(false); // out of range
    expect(d.bytes).toBe(700);
  });
  it('loss of nothing sent is 0', () => expect(lossPct(0, 0)).toBe(0));
});

describe('profiles and bands', () => {
  it('audio is 50 x 160 B for 5 s; video 2.5 Mbit/s in 1200 B', () => {
    expect(PROFILES.audio).toMatchObject({ rate: 50, size: 160, durationMs: 5000 });
    expect(PROFILES.video.size).toBe(1200);
    expect(Math.abs(PROFILES.video.rate * 1200 * 8 - 2.5e6)).toBeLessThan(1200 * 8);
  });
  it('band edges are inclusive', () => {
    expect(bandOf('delay', 100)).toBe('good');
    expect(bandOf('delay', 100.1)).toBe('acceptable');
    expect(bandOf('delay', 200)).toBe('acceptable');
    expect(bandOf('delay', 201)).toBe('bad');
    expect(bandOf('jitter', 10)).toBe('good');
    expect(bandOf('jitter', 30.5)).toBe('bad');
    expect(bandOf('loss', 0.5)).toBe('good');
    expect(bandOf('loss', 3)).toBe('acceptable');
    expect(bandOf('loss', 3.1)).toBe('bad');
    expect(BANDS.loss.unit).toBe('%');
  });
});

function dir(o: Partial<DirectionSummary> = {}): DirectionSummary {
  return { received: 250, lossPct: 0, oneWayMs: { p50: 20, p95: 25 }, jitterMs: 1, reorderedPct: 0, duplicates: 0, goodputKbps: 64, ...o };
}
function win(up: Partial<DirectionSummary> = {}, down: Partial<DirectionSummary> = {}): WindowResult {
  return { profile: 'audio', sent: 250, echoed: 250, rttMs: { p50: 40, p95: 50 }, up: dir(up), down: dir(down), windowMs: 5000, aborted: false };
}

describe('judge', () => {
  it('passes a good path', () => {
    const v = judge(win());
    expect(v.status).toBe('pass');
    expect(v.bands).toEqual({ delay: 'good', jitter: 'good', loss: 'good' });
  });
  it('passes an acceptable path and says which metric is only acceptable', () => {
    const v = judge(win({ lossPct: 2 }));
    expect(v.status).toBe('pass');
    expect(v.summary).toMatch(/acceptable.*loss/);
  });
  it('warns on a bad band with the worse direction and a cause for the hint', () => {
    const v = judge(win({}, { lossPct: 5 }));
    expect(v).toMatchObject({ status: 'warn', severity: 'medium', cause: 'loss' });
    expect(v.values.loss).toBe(5);
    expect(judge(win({ oneWayMs: { p50: 250, p95: 300 } })).cause).toBe('high-rtt');
    expect(judge(win({}, { jitterMs: 40 })).cause).toBe('jitter');
  });
  it('loss names the cause when several bands are bad; broken paths fail', () => {
    const v = judge(win({ lossPct: 25, jitterMs: 50 }));
    expect(v).toMatchObject({ status: 'fail', severity: 'high', cause: 'loss' });
    expect(v.summary).toMatch(/loss 25 % > 3 %.*jitter/);
  });
  it('fails when nothing came through one way', () => {
    const v = judge(win({ received: 0, lossPct: 100 }, { received: 0 }));
    expect(v.status).toBe('fail');
    expect(v.summary).toMatch(/client -> relay -> peer/);
  });
});
