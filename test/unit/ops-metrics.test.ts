import { request } from 'node:http';
import { GRADE_RANK } from '../../src/tester/types';
import { runResult, VoiptestMetrics, type MetricsReport } from '../../src/ops/metrics';
import { Counter, Gauge, Histogram, MetricError, Registry } from '../../src/ops/prom';
import { parseListen, startOpsServer } from '../../src/ops/server';

const good: MetricsReport = {
  grade: { overall: 'Good', ipv4: 'Good', ipv6: 'Poor' },
  security: { verdict: 'ok' },
  checks: [{ id: 'STUN-1', status: 'pass' }, { id: 'ADV-1', status: 'warn' }],
};
const bad: MetricsReport = {
  grade: { overall: 'Poor', ipv4: 'Poor', ipv6: 'Fail' },
  security: { verdict: 'unsafe' },
  checks: [{ id: 'ACL-1', status: 'fail' }, { id: 'DATA-1', status: 'fail' }, { id: 'DATA-1', status: 'fail' }, { id: 'NOPE-9', status: 'fail' }],
};

describe('prom exposition', () => {
  test('counter, gauge, histogram text format', () => {
    const r = new Registry();
    const c = r.register(new Counter({ name: 'x_total', help: 'Xs.\nsecond line', labelNames: ['a'] }));
    const g = r.register(new Gauge({ name: 'y', help: 'Y.' }));
    const h = r.register(new Histogram({ name: 'z_seconds', help: 'Z.', buckets: [1, 0.5] }));
    c.inc({ a: 'q"u\\o\nte' });
    c.inc({ a: 'b' }, 2);
    g.setValue({}, 1.5);
    h.observe({}, 0.2);
    h.observe({}, 0.7);
    h.observe({}, 3);
    expect(r.expose()).toBe(
      [
        '# HELP x_total Xs.\\nsecond line',
        '# TYPE x_total counter',
        'x_total{a="b"} 2',
        'x_total{a="q\\"u\\\\o\\nte"} 1',
        '# HELP y Y.',
        '# TYPE y gauge',
        'y 1.5',
        '# HELP z_seconds Z.',
        '# TYPE z_seconds histogram',
        'z_seconds_bucket{le="0.5"} 1',
        'z_seconds_bucket{le="1"} 2',
        'z_seconds_bucket{le="+Inf"} 3',
        'z_seconds_sum 3.9',
        'z_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  test('misuse is a typed error', () => {
    expect(() => new Counter({ name: 'bad name', help: '' })).toThrow(MetricError);
    expect(() => new Counter({ name: 'ok', help: '', labelNames: ['le'] })).toThrow(MetricError);
    const c = new Counter({ name: 'c', help: '', labelNames: ['a'] });
    expect(() => c.inc({})).toThrow(MetricError);
    expect(() => c.inc({ a: 'x' }, -1)).toThrow(MetricError);
    const r = new Registry();
    r.register(new Gauge({ name: 'g', help: '' }));
    expect(() => r.register(new Gauge({ name: 'g', help: '' }))).toThrow(MetricError);
  });

  test('series are capped, least recently updated dropped', () => {
    const g = new Gauge({ name: 'g', help: '', labelNames: ['t'], maxSeries: 2 });
    g.setValue({ t: 'a' }, 1);
    g.setValue({ t: 'b' }, 1);
    g.setValue({ t: 'a' }, 2);
    g.setValue({ t: 'c' }, 1);
    expect(g.value({ t: 'b' })).toBeUndefined();
    expect(g.value({ t: 'a' })).toBe(2);
    expect(g.value({ t: 'c' })).toBe(1);
  });
});

describe('VoiptestMetrics', () => {
  test('runs, grades, failures, duration', () => {
    const m = new VoiptestMetrics({ version: '1.2.3', now: () => 1_700_000_000_000 });
    m.recordRun({ trigger: 'command', target: 'hs:https://a', durationMs: 1500, report: good });
    m.recordRun({ trigger: 'schedule', target: 'hs:https://a', durationMs: 800, report: bad });
    m.recordRun({ trigger: 'weird', target: 'hs:https://b', durationMs: 10, report: null });
    const text = m.expose();
    expect(text).toContain('mxv_runs_total{trigger="command",result="warn"} 1');
    expect(text).toContain('mxv_runs_total{trigger="schedule",result="fail"} 1');
    expect(text).toContain('mxv_runs_total{trigger="other",result="error"} 1');
    expect(text).toContain('mxv_grade{target="hs:https://a",family="overall"} 1');
    expect(text).toContain('mxv_grade{target="hs:https://a",family="ipv6"} 0');
    expect(text).not.toContain('target="hs:https://b"');
    expect(text).toContain('mxv_security_unsafe{target="hs:https://a"} 1');
    expect(text).toContain('mxv_last_run_timestamp_seconds{target="hs:https://a"} 1700000000');
    expect(text).toContain('mxv_check_failures_total{check="DATA-1"} 2');
    expect(text).toContain('mxv_check_failures_total{check="ACL-1"} 1');
    expect(text).toContain('mxv_check_failures_total{check="other"} 1');
    expect(text).toContain('mxv_run_duration_seconds_bucket{trigger="command",le="2"} 1');
    expect(text).toContain('mxv_run_duration_seconds_count{trigger="command"} 1');
    expect(text).toContain('mxv_build_info{version="1.2.3"} 1');
  });

  test('grade values and run results', () => {
    expect(GRADE_RANK).toEqual({ Fail: 0, Poor: 1, Good: 2, Great: 3, Excellent: 4 });
    expect(runResult(null)).toBe('error');
    expect(runResult(good)).toBe('warn');
    expect(runResult(bad)).toBe('fail');
    expect(runResult({ ...good, checks: [] })).toBe('ok');
  });

  test('in-progress gauge; done is idempotent', () => {
    const m = new VoiptestMetrics();
    const d1 = m.runStarted();
    const d2 = m.runStarted();
    expect(m.inProgress.value()).toBe(2);
    d1();
    d1();
    expect(m.inProgress.value()).toBe(1);
    d2();
    expect(m.expose()).toContain('mxv_runs_in_progress 0');
  });

  test('recordRun never throws on junk', () => {
    const m = new VoiptestMetrics();
    expect(() => m.recordRun({ trigger: 'command', target: 'x', durationMs: NaN, report: { grade: {} as never, checks: null as never } })).not.toThrow();
  });
});

describe('ops server', () => {
  function get(url: string): Promise<{ status: number; type: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.setTimeout(3000, () => req.destroy(new Error('timeout')));
      req.end();
    });
  }

  test('/healthz and /metrics on loopback', async () => {
    const metrics = new VoiptestMetrics();
    let ok = true;
    const srv = await startOpsServer({ host: '127.0.0.1', port: 0, metrics, health: () => ({ ok, detail: { sync: ok ? 'running' : 'stopped' } }) });
    try {
      expect(await get(`${srv.url}/healthz`)).toMatchObject({ status: 200, body: '{"status":"ok","sync":"running"}' });
      ok = false;
      expect((await get(`${srv.url}/healthz`)).status).toBe(503);
      const m = await get(`${srv.url}/metrics`);
      expect(m.status).toBe(200);
      expect(m.type).toContain('text/plain; version=0.0.4');
      expect(m.body).toContain('# TYPE mxv_runs_total counter');
      expect((await get(`${srv.url}/nope`)).status).toBe(404);
    } finally {
      await srv.close();
    }
  });

  test('a throwing health function is 503, not a crash', async () => {
    const srv = await startOpsServer({ health: () => { throw new Error('x'); } });
    try {
      expect((await get(`${srv.url}/healthz`)).status).toBe(503);
    } finally {
      await srv.close();
    }
  });

  test('parseListen', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(() => parseListen('nope')).toThrow();
    expect(() => parseListen('a:99999')).toThrow();
  });
});
