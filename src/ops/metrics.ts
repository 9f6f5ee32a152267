// The bot's Prometheus metrics, so an admin can alert on TURN health:
//
//   mxv_runs_total{trigger,result}              runs finished (result: ok|warn|fail|error)
//   mxv_grade{target,family}                    last grade, 0=Fail 1=Poor 2=Good 3=Great 4=Excellent
//   mxv_security_unsafe{target}                 1 when the last run found a critical security problem
//   mxv_last_run_timestamp_seconds{target}      when the target was last tested (alert on staleness)
//   mxv_check_failures_total{check}             findings at status fail, by check id
//   mxv_run_duration_seconds{trigger}           run duration histogram
//   mxv_runs_in_progress                        runs running now
//   mxv_build_info{version}                     always 1
//
// Example alert: `min_over_time(mxv_grade{family="overall"}[30m]) < 2`.
// Label values are bounded: check ids come from the catalogue, triggers and
// results from fixed lists, targets are capped (least recently run dropped).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isCheckId } from '../tester/checks';
import { GRADE_RANK, type Grade } from '../tester/types';
import { CONTENT_TYPE, Counter, Gauge, Histogram, Registry } from './prom';

export const TRIGGERS = ['command', 'schedule', 'browser', 'cli', 'other'] as const;
export const RESULTS = ['ok', 'warn', 'fail', 'error'] as const;
export type Trigger = (typeof TRIGGERS)[number];
export type RunResult = (typeof RESULTS)[number];

/** The part of a report the metrics read (a full Report fits). */
export interface MetricsReport {
  grade: { overall: Grade; ipv4: Grade; ipv6: Grade };
  security?: { verdict: string };
  checks: readonly { id: string; status: string; severity?: string | null }[];
}

export interface RunRecord {
  trigger: string;
  /** The tested target (a homeserver or a URI set, e.g. the store's targetKey); never a credential. Null: no per-target series (targets from users, which are unbounded). */
  target: string | null;
  durationMs: number;
  /** null when the run could not complete (refused target, crash): counted as result="error". */
  report: MetricsReport | null;
}

/** ok: nothing at fail; warn: warnings only; fail: a finding at fail or an unsafe verdict. */
export function runResult(report: MetricsReport | null): RunResult {
  if (!report) return 'error';
  if (report.security?.verdict === 'unsafe' || report.checks.some((c) => c.status === 'fail')) return 'fail';
  if (report.checks.some((c) => c.status === 'warn')) return 'warn';
  return 'ok';
}

function oneOf<T extends string>(v: string, list: readonly T[], fallback: T): T {
  return (list as readonly string[]).includes(v) ? (v as T) : fallback;
}

export class VoiptestMetrics {
  readonly registry = new Registry();
  readonly runs: Counter;
  readonly grade: Gauge;
  readonly unsafe: Gauge;
  readonly lastRun: Gauge;
  readonly checkFailures: Counter;
  readonly duration: Histogram;
  readonly inProgress: Gauge;
  private readonly now: () => number;

  constructor(opts: { version?: string; maxTargets?: number; now?: () => number } = {}) {
    const maxSeries = opts.maxTargets ?? 100;
    this.now = opts.now ?? Date.now;
    const r = this.registry;
    this.runs = r.register(new Counter({ name: 'mxv_runs_total', help: 'Test runs finished, by trigger and result.', labelNames: ['trigger', 'result'] }));
    this.grade = r.register(new Gauge({ name: 'mxv_grade', help: 'Last grade per target and family: 0 Fail, 1 Poor, 2 Good, 3 Great, 4 Excellent.', labelNames: ['target', 'family'], maxSeries: maxSeries * 3 }));
    this.unsafe = r.register(new Gauge({ name: 'mxv_security_unsafe', help: '1 when the last run of the target found a critical security problem.', labelNames: ['target'], maxSeries }));
    this.lastRun = r.register(new Gauge({ name: 'mxv_last_run_timestamp_seconds', help: 'Unix time of the last completed run per target.', labelNames: ['target'], maxSeries }));
    this.checkFailures = r.register(new Counter({ name: 'mxv_check_failures_total', help: 'Findings at status fail, by check id.', labelNames: ['check'] }));
    this.duration = r.register(new Histogram({ name: 'mxv_run_duration_seconds', help: 'Duration of test runs.', labelNames: ['trigger'], buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120] }));
    this.inProgress = r.register(new Gauge({ name: 'mxv_runs_in_progress', help: 'Test runs running now.' }));
    r.register(new Gauge({ name: 'mxv_build_info', help: 'Build information.', labelNames: ['version'] })).setValue({ version: opts.version ?? 'unknown' }, 1);
    this.inProgress.setValue({}, 0);
  }

  /** Call when a run starts; call the returned function once when it ends (idempotent). */
  runStarted(): () => void {
    this.inProgress.setValue({}, (this.inProgress.value() ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inProgress.setValue({}, Math.max(0, (this.inProgress.value() ?? 1) - 1));
    };
  }

  /** Record one finished run. Never throws. */
  recordRun(rec: RunRecord): void {
    try {
      const trigger = oneOf(rec.trigger, TRIGGERS, 'other');
      const result = runResult(rec.report);
      this.runs.inc({ trigger, result });
      if (Number.isFinite(rec.durationMs) && rec.durationMs >= 0) this.duration.observe({ trigger }, rec.durationMs / 1000);
      if (!rec.report) return;
      for (const c of rec.report.checks) {
        if (c.status === 'fail') this.checkFailures.inc({ check: isCheckId(c.id) ? c.id : 'other' });
      }
      if (rec.target === null) return;
      const target = rec.target.slice(0, 200);
      const g = rec.report.grade;
      this.grade.setValue({ target, family: 'overall' }, GRADE_RANK[g.overall] ?? 0);
      this.grade.setValue({ target, family: 'ipv4' }, GRADE_RANK[g.ipv4] ?? 0);
      this.grade.setValue({ target, family: 'ipv6' }, GRADE_RANK[g.ipv6] ?? 0);
      this.unsafe.setValue({ target }, rec.report.security?.verdict === 'unsafe' ? 1 : 0);
      this.lastRun.setValue({ target }, Math.floor(this.now() / 1000));
    } catch {
      // Metrics are best effort: never fail a run because of them.
    }
  }

  expose(): string {
    return this.registry.expose();
  }

  /** A node:http handler serving the exposition (mount at /metrics). */
  handler(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const body = this.expose();
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
  }
}
