// A tiny Prometheus registry: counters, gauges and histograms with labels, and
// the text exposition format (version 0.0.4). Written here instead of using
// prom-client because we need four metrics and no default process collectors,
// and it keeps the image free of another dependency tree; the format is small
// and pinned by a test.
export type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricError extends Error {
  override name = 'MetricError';
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i]!)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface MetricSpec {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Most label combinations kept; the least recently updated series is dropped beyond it (bounds memory when labels come from users). */
  maxSeries?: number;
}

abstract class Metric<V> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly maxSeries: number;
  protected series = new Map<string, { values: string[]; v: V }>();

  constructor(spec: MetricSpec) {
    if (!NAME.test(spec.name)) throw new MetricError(`bad metric name ${JSON.stringify(spec.name)}`);
    for (const l of spec.labelNames ?? []) if (!LABEL.test(l) || l === 'le') throw new MetricError(`bad label name ${JSON.stringify(l)}`);
    this.name = spec.name;
    this.help = spec.help;
    this.labelNames = spec.labelNames ?? [];
    this.maxSeries = spec.maxSeries ?? 1000;
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected abstract zero(): V;
  protected abstract lines(labels: string[], v: V): string[];

  protected get(labels: Labels = {}): V {
    const values = this.labelNames.map((n) => {
      const v = labels[n];
      if (typeof v !== 'string') throw new MetricError(`${this.name}: missing label ${n}`);
      return v;
    });
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s) {
      // Re-insert: Map order is then least-recently-updated first.
      this.series.delete(key);
    } else {
      s = { values, v: this.zero() };
      while (this.series.size >= this.maxSeries) this.series.delete(this.series.keys().next().value as string);
    }
    this.series.set(key, s);
    return s.v;
  }

  protected set(labels: Labels, v: V): void {
    this.get(labels);
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    this.series.get(key)!.v = v;
  }

  remove(labels: Labels): void {
    this.series.delete(this.labelNames.map((n) => labels[n] ?? '').join('\u0000'));
  }

  expose(): string {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    const sorted = [...this.series.values()].sort((a, b) => (a.values.join('\u0000') < b.values.join('\u0000') ? -1 : 1));
    for (const s of sorted) out.push(...this.lines(s.values, s.v));
    return out.join('\n');
  }
}

export class Counter extends Metric<{ n: number }> {
  readonly type = 'counter';
  protected zero() {
    return { n: 0 };
  }
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) throw new MetricError(`${this.name}: counters only go up`);
    this.get(labels).n += by;
  }
  value(labels: Labels = {}): number {
    return this.series.get(this.labelNames.map((n) => labels[n]).join('\u0000'))?.v.n ?? 0;
  }
  protected lines(values: string[], v: { n: number }): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${fmt(v.n)}`];
  }
}

export class Gauge extends Metric<{ n: number }> {
  readonly type = 'gauge';
  protected zero() {
    return { n: 0 };
  }
  setValue(labels: Labels, n: number): void {
    this.set(labels, { n });
  }
  value(labels: Labels = {}): number | undefined {
    return this.series.get(this.labelNames.map((n) => labels[n]).join('\u0000'))?.v.n;
  }
  protected lines(values: string[], v: { n: number }): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${fmt(v.n)}`];
  }
}

interface HistValue {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistValue> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  constructor(spec: MetricSpec & { buckets: readonly number[] }) {
    super(spec);
    const b = [...spec.buckets].sort((x, y) => x - y);
    if (b.length === 0 || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x === b[i - 1]))) throw new MetricError(`${spec.name}: bad buckets`);
    this.buckets = b;
  }
  protected zero(): HistValue {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(labels: Labels, x: number): void {
    if (!Number.isFinite(x)) return;
    const h = this.get(labels);
    // Counts are per bucket here and made cumulative on exposition.
    const i = this.buckets.findIndex((b) => x <= b);
    if (i >= 0) h.counts[i]! += 1;
    h.sum += x;
    h.count += 1;
  }
  protected lines(values: string[], v: HistValue): string[] {
    const out: string[] = [];
    let cum = 0;
    this.buckets.forEach((b, i) => {
      cum += v.counts[i]!;
      out.push(`${this.name}_bucket${labelText(this.labelNames, values, ['le', fmt(b)])} ${cum}`);
    });
    out.push(`${this.name}_bucket${labelText(this.labelNames, values, ['le', '+Inf'])} ${v.count}`);
    out.push(`${this.name}_sum${labelText(this.labelNames, values)} ${fmt(v.sum)}`);
    out.push(`${this.name}_count${labelText(this.labelNames, values)} ${v.count}`);
    return out;
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class Registry {
  private metrics = new Map<string, Metric<unknown>>();
  register<M extends Metric<any>>(m: M): M {
    if (this.metrics.has(m.name)) throw new MetricError(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m as Metric<unknown>);
    return m;
  }
  /** The text exposition of every metric, newline-terminated. */
  expose(): string {
    return `${[...this.metrics.values()].map((m) => m.expose()).join('\n')}\n`;
  }
}
