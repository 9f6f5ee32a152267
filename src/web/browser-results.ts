// What the helper page posts, parsed into the report model's `browser` section
// (types in tester/report-browser.ts, beside the schema-1 fields; older
// readers ignore it). The page is untrusted: everything it posts is parsed
// here into bounded, cleaned values; URIs it did not get from us are dropped.
import type { BrowserDataChannel, BrowserIceError, BrowserResults, BrowserUriResult, PairEnd, PeerSide, Report } from '../tester/report';

export type { BrowserDataChannel, BrowserIceError, BrowserResults, BrowserUriResult, CandidateCounts, PairEnd, PeerSide } from '../tester/report';

/** The report with its browser section: the report model itself (Report.browser). */
export type MergedReport = Report;

export class BrowserResultsError extends Error {
  override name = 'BrowserResultsError';
}

const LIMITS = { uris: 32, errors: 16, text: 200, userAgent: 300, count: 1000, ms: 600000 };

function text(v: unknown, max = LIMITS.text): string {
  return typeof v === 'string' ? v.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ').trim().slice(0, max) : '';
}

function int(v: unknown, max: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.min(max, Math.round(v))) : 0;
}

function ms(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.min(LIMITS.ms, Math.round(v * 10) / 10) : null;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const TYPE_WORDS = new Set(['host', 'srflx', 'prflx', 'relay']);
const PROTO_WORDS = new Set(['udp', 'tcp', 'tls']);

function pairEnd(v: unknown): PairEnd {
  const o = obj(v);
  const type = text(o.type, 10);
  const protocol = text(o.protocol, 10);
  const relayProtocol = text(o.relayProtocol, 10);
  return {
    type: TYPE_WORDS.has(type) ? type : 'unknown',
    protocol: PROTO_WORDS.has(protocol) ? protocol : 'unknown',
    relayProtocol: PROTO_WORDS.has(relayProtocol) ? relayProtocol : null,
  };
}

function dataChannel(v: unknown): BrowserDataChannel | null {
  if (v === null || v === undefined) return null;
  const o = obj(v);
  const pair = obj(o.selectedPair);
  return {
    ok: o.ok === true,
    rttMs: ms(o.rttMs),
    connectMs: ms(o.connectMs),
    selectedPair: o.selectedPair ? { local: pairEnd(pair.local), remote: pairEnd(pair.remote) } : null,
    error: text(o.error) || null,
  };
}

/** Parse what the page posted; keep only URIs the user shared with us. */
export function parseBrowserResults(json: unknown, sharedUris: readonly string[]): BrowserResults {
  const o = obj(json);
  if (!Array.isArray(o.perUri)) throw new BrowserResultsError('results need a perUri list');
  const perUri: BrowserUriResult[] = [];
  for (const raw of o.perUri.slice(0, LIMITS.uris)) {
    const r = obj(raw);
    const uri = typeof r.uri === 'string' ? r.uri : '';
    if (!sharedUris.includes(uri) || perUri.some((p) => p.uri === uri)) continue;
    const c = obj(r.candidates);
    const errors = (Array.isArray(r.errors) ? r.errors : []).slice(0, LIMITS.errors).map((e) => {
      const x = obj(e);
      return { code: int(x.code, 999), url: text(x.url), text: text(x.text), policy: x.policy === 'relay' ? 'relay' : 'all' } as BrowserIceError;
    });
    perUri.push({
      uri,
      candidates: { host: int(c.host, LIMITS.count), srflx: int(c.srflx, LIMITS.count), relay: int(c.relay, LIMITS.count) },
      relayOnly: r.relayOnly === null || r.relayOnly === undefined ? null : int(r.relayOnly, LIMITS.count),
      errors,
      dataChannel: dataChannel(r.dataChannel),
    });
  }
  return { userAgent: text(o.userAgent, LIMITS.userAgent), perUri };
}

/** Add the browser section (with what our peer saw per URI) to the engine's report. */
export function mergeBrowser(report: Report, browser: BrowserResults | null, peers: ReadonlyMap<string, PeerSide> = new Map()): MergedReport {
  if (!browser) return { ...report };
  return { ...report, browser: { ...browser, perUri: browser.perUri.map((u) => (peers.has(u.uri) ? { ...u, peer: peers.get(u.uri) } : u)) } };
}
