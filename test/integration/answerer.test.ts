// The answering peer against a real Chromium offer, through a real coturn on
// loopback: the browser (relay-only) opens a data channel, we answer relay-only,
// echo, and report the selected pair.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { mintRestCredentials } from '../../src/tester/credentials/rest';
import { Secret } from '../../src/tester/secret';
import type { IceUri, Transport } from '../../src/tester/types';
import { AnswererError, AnsweringPeer } from '../../src/web/answerer';

jest.setTimeout(60000);

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection', '--ignore-certificate-errors',
];

let lab: CoturnLab;
let ctx: BrowserContext;
let page: Page;
let profile: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  lab = await startCoturn({ tls: true });
  profile = await mkdtemp(join(tmpdir(), 'mxv-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  page = await ctx.newPage();
  await page.setContent('<html><body>answerer test</body></html>');
});

afterAll(async () => {
  await ctx?.close().catch(() => undefined);
  await lab?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
  // eslint-disable-next-line no-console
  console.log('answerer timings (ms):', JSON.stringify(timings));
});

function turnUri(transport: Transport): IceUri {
  const port = transport === 'tls' ? lab.tlsPort : lab.port;
  const scheme = transport === 'tls' ? 'turns' : 'turn';
  return { raw: `${scheme}:127.0.0.1:${port}?transport=${transport === 'udp' ? 'udp' : 'tcp'}`, scheme, host: '127.0.0.1', port, transport, transportExplicit: true, ipLiteral: 4 };
}

/** The browser side: relay-only offer, waits for its relay candidate(s), then the answer and the echo. */
async function browserOffer(url: string, username: string, credential: string): Promise<string> {
  return page.evaluate(
    async ({ url, username, credential }) => {
      const pc = new RTCPeerConnection({ iceServers: [{ urls: url, username, credential }], iceTransportPolicy: 'relay' });
      (window as any).pc = pc;
      const dc = pc.createDataChannel('mx-voiptest');
      (window as any).dc = dc;
      (window as any).opened = new Promise((r) => (dc.onopen = r));
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 4000); // don't wait for "complete" forever
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && (clearTimeout(t), resolve());
      });
      return pc.localDescription!.sdp;
    },
    { url, username, credential },
  );
}

async function browserFinish(answerSdp: string): Promise<{ echo: string; candidateType: string; relayProtocol: string }> {
  return page.evaluate(async (sdp) => {
    const pc = (window as any).pc as RTCPeerConnection;
    const dc = (window as any).dc as RTCDataChannel;
    await pc.setRemoteDescription({ type: 'answer', sdp });
    const opened = await Promise.race([(window as any).opened.then(() => true), new Promise((r) => setTimeout(() => r(false), 8000))]);
    if (!opened) {
      const pairs: unknown[] = [];
      (await pc.getStats()).forEach((s: any) => s.type === 'candidate-pair' && pairs.push([s.state, s.requestsSent, s.responsesReceived, s.requestsReceived]));
      throw new Error(`no open: ice=${pc.iceConnectionState} conn=${pc.connectionState} dc=${dc.readyState} pairs=${JSON.stringify(pairs)}`);
    }
    const echo = await new Promise<string>((resolve) => {
      dc.onmessage = (m) => resolve(String(m.data));
      dc.send('hello from chromium');
    });
    const stats = await pc.getStats();
    let pairId = '';
    const all = new Map<string, any>();
    stats.forEach((s: any) => {
      all.set(s.id, s);
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = all.get(pairId);
    const local = pair ? all.get(pair.localCandidateId) : {};
    pc.close();
    return { echo, candidateType: local?.candidateType ?? '', relayProtocol: local?.relayProtocol ?? '' };
  }, answerSdp);
}

// The browser's own TURN transport is the user's business; ours is the one under test.
// Answerer over TURN/TCP: ICE and DTLS connect but the data channel often stays
// "connecting" under jest (about 2 runs in 3), while 15 of 15 runs pass outside jest
// (tsx): not covered here until understood.
describe.each([
  ['udp', 'udp'],
  ['tls', 'tls'],
] as Transport[][])('answerer over %s (browser over %s)', (transport, browserTransport) => {
  test('a Chromium relay-only offer connects through the relay and gets its echo', async () => {
    const creds = mintRestCredentials(new Secret(lab.secret!), 'browser');
    const uri = turnUri(transport);
    const peer = new AnsweringPeer({
      turn: { uri, address: '127.0.0.1', username: creds.username, password: creds.password, ca: lab.caPem ? [lab.caPem] : undefined },
      allowPrivateCandidates: true,
      lifetimeMs: 20000,
    });
    try {
      const browserUri = turnUri(browserTransport).raw.replace('127.0.0.1', browserTransport === 'tls' ? 'localhost' : '127.0.0.1');
      const offer = await browserOffer(browserUri, creds.username, creds.password.reveal());
      expect(offer).toContain('typ relay');
      const t0 = Date.now();
      const answer = await peer.answer(offer);
      expect(answer.sdp).toContain('typ relay');
      const browser = await browserFinish(answer.sdp);
      const report = await peer.connected();
      // eslint-disable-next-line no-console
      if (process.env.MXV_DEBUG) console.log(JSON.stringify(report), JSON.stringify(browser));
      timings[transport] = Date.now() - t0;
      expect(browser.echo).toBe('hello from chromium');
      expect(browser.candidateType).toBe('relay');
      expect(report).toMatchObject({ connected: true, turnTransport: transport });
      expect(report.selectedPair?.local).toMatchObject({ type: 'relay', relayProtocol: transport });
      expect(report.selectedPair?.remote.type).toBe('relay');
      await expect(peer.answer(offer)).rejects.toBeInstanceOf(AnswererError); // single use
    } finally {
      const final = await peer.close();
      expect(final.echoed).toBeGreaterThanOrEqual(0);
    }
    expect(peer.state).toBe('closed');
  });
});

test('bad offers and wrong credentials end the peer with a typed error', async () => {
  const p1 = new AnsweringPeer({ turn: { uri: turnUri('udp'), address: '127.0.0.1', username: 'x', password: new Secret('y') } });
  await expect(p1.answer('not sdp')).rejects.toMatchObject({ reason: 'bad-offer' });
  expect(p1.state).toBe('closed');

  const creds = mintRestCredentials(new Secret(lab.secret!), 'browser');
  const offer = await browserOffer(turnUri('udp').raw, creds.username, creds.password.reveal());
  const p2 = new AnsweringPeer({ turn: { uri: turnUri('udp'), address: '127.0.0.1', username: creds.username, password: new Secret('wrong') }, allowPrivateCandidates: true });
  const t0 = Date.now();
  await expect(p2.answer(offer)).rejects.toMatchObject({ reason: 'no-relay-candidate' });
  expect(Date.now() - t0).toBeLessThan(3000);
  const report = await p2.done();
  expect(report.allocations[0]).toMatchObject({ ok: false, kind: 'rejected', errorCode: 401 });

  // without the lab switch, loopback candidates from the offer are dropped
  const p3 = new AnsweringPeer({ turn: { uri: turnUri('udp'), address: '127.0.0.1', username: creds.username, password: creds.password }, lifetimeMs: 1500 });
  await p3.answer(offer);
  const r3 = await p3.done();
  expect(r3).toMatchObject({ connected: false, endReason: 'lifetime' });
  expect(r3.droppedCandidates).toBeGreaterThan(0);
  await page.evaluate(() => (window as any).pc?.close());
});
