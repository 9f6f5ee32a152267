import { renderHtml, renderMarkdown, renderPlain } from '../../src/render';
import { mergeBrowser, parseBrowserResults, BrowserResultsError } from '../../src/web/browser-results';
import { sampleReport } from '../fixtures/report-sample';

const URIS = ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'];

function posted(extra: Record<string, unknown> = {}) {
  return {
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
    perUri: [
      { uri: URIS[0], candidates: { host: 2, srflx: 1, relay: 1 }, relayOnly: 1, errors: [], dataChannel: { ok: true, rttMs: 23.456, connectMs: 400, selectedPair: { local: { type: 'relay', protocol: 'udp', relayProtocol: 'udp' }, remote: { type: 'relay', protocol: 'udp' } } } },
      { uri: URIS[1], candidates: { host: 2, srflx: 0, relay: 0 }, relayOnly: 0, errors: [{ code: 701, url: URIS[1], text: 'TLS handshake failed', policy: 'relay' }], dataChannel: { ok: false, error: 'the browser got no relay candidate from this server' } },
    ],
    ...extra,
  };
}

test('parse: bounded numbers, cleaned text, known words only, foreign and duplicate URIs dropped', () => {
  const raw = posted();
  (raw.perUri as unknown[]).push({ uri: 'turn:evil.example', candidates: {} }, { uri: URIS[0], candidates: {} });
  (raw.perUri[0] as any).candidates.host = 1e9;
  (raw.perUri[0] as any).dataChannel.selectedPair.local.type = '<img src=x>';
  (raw.perUri[1] as any).errors[0].text = 'bad\u202e\u0000text'.padEnd(500, 'x');
  const b = parseBrowserResults(raw, URIS);
  expect(b.perUri.map((u) => u.uri)).toEqual(URIS);
  expect(b.perUri[0]!.candidates.host).toBe(1000);
  expect(b.perUri[0]!.dataChannel!.rttMs).toBe(23.5);
  expect(b.perUri[0]!.dataChannel!.selectedPair!.local.type).toBe('unknown');
  expect(b.perUri[1]!.errors[0]!.text).toMatch(/^bad text/);
  expect(b.perUri[1]!.errors[0]!.text.length).toBeLessThanOrEqual(200);
  expect(() => parseBrowserResults({}, URIS)).toThrow(BrowserResultsError);
  expect(() => parseBrowserResults('x', URIS)).toThrow(BrowserResultsError);
  expect(parseBrowserResults({ perUri: [null, 1, 'a'] }, URIS).perUri).toEqual([]);
});

test('merge keeps schema 1 and adds the browser section with our peer side', () => {
  const r = sampleReport();
  const b = parseBrowserResults(posted(), URIS);
  const m = mergeBrowser(r, b, new Map([[URIS[0]!, { connected: true, turnTransport: 'udp', connectMs: 380, endReason: 'closed' }]]));
  expect(m.schema).toBe(1);
  expect(m.grade).toEqual(r.grade);
  expect(m.browser!.perUri[0]!.peer).toMatchObject({ connected: true });
  expect(m.browser!.perUri[1]!.peer).toBeUndefined();
  expect(mergeBrowser(r, null).browser).toBeUndefined();
});

test('renderers: "From your network" in Markdown, HTML (Matrix-safe) and plain text; escaped', () => {
  const b = parseBrowserResults(posted({ userAgent: 'Evil <script>alert(1)</script>' }), URIS);
  (b.perUri[1]!.errors[0] as any).text = '<img src=x onerror=alert(1)> [link](http://evil)';
  const m = mergeBrowser(sampleReport(), b);
  const md = renderMarkdown(m);
  expect(md).toContain('#### From your network');
  expect(md).toContain('**From your network**');
  expect(md).toContain('relay/udp → relay/udp');
  const html = renderHtml(m, { matrix: true });
  expect(html).toContain('<summary>From your network</summary>');
  expect(html).not.toMatch(/<script|<img|href=/);
  expect(renderPlain(m)).toMatch(/From your network \(.*\): a data channel opened through 1 of 2 relays; 1 ICE error/);
  // no browser section: unchanged output
  expect(renderMarkdown(sampleReport())).not.toContain('From your network');
});
