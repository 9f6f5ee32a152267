// Regression: Chromium <-> our answering peer, both relay-only over TURN/TCP,
// several at once. Before src/webrtc/werift/dtls-flight.ts, werift's DTLS client
// re-ran its key exchange on Chromium's retransmitted flight 4 and about half
// of these never opened their data channel (Chromium "connected", werift
// resending flight 5 forever).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { mintRestCredentials } from '../../src/tester/credentials/rest';
import { Secret } from '../../src/tester/secret';
import type { IceUri } from '../../src/tester/types';
import { AnsweringPeer } from '../../src/web/answerer';

jest.setTimeout(60000);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection'];
let lab: CoturnLab;
let ctx: BrowserContext;
let profile: string;

beforeAll(async () => {
  lab = await startCoturn({});
  profile = await mkdtemp(join(tmpdir(), 'mxv-tcp-'));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
});
afterAll(async () => {
  await ctx?.close().catch(() => undefined);
  await lab?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

async function attempt(page: Page): Promise<{ echo: string; peer: boolean; transport: string | null; ms: number }> {
  const creds = mintRestCredentials(new Secret(lab.secret!), 'tcp');
  const uri: IceUri = { raw: `turn:127.0.0.1:${lab.port}?transport=tcp`, scheme: 'turn', host: '127.0.0.1', port: lab.port, transport: 'tcp', transportExplicit: true, ipLiteral: 4 };
  const peer = new AnsweringPeer({ turn: { uri, address: '127.0.0.1', username: creds.username, password: creds.password }, allowPrivateCandidates: true, lifetimeMs: 20000 });
  try {
    const offer = await page.evaluate(async ({ url, u, c }) => {
      const pc = new RTCPeerConnection({ iceServers: [{ urls: url, username: u, credential: c }], iceTransportPolicy: 'relay' });
      const dc = pc.createDataChannel('x');
      Object.assign(window, { pc, dc, opened: new Promise((r) => (dc.onopen = r)) });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((res) => {
        const t = setTimeout(res, 4000);
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && (clearTimeout(t), res());
      });
      return pc.localDescription!.sdp;
    }, { url: uri.raw, u: creds.username, c: creds.password.reveal() });
    const t0 = Date.now();
    const answer = await peer.answer(offer);
    const echo = await page.evaluate(async (sdp) => {
      const w = window as any;
      await w.pc.setRemoteDescription({ type: 'answer', sdp });
      const ok = await Promise.race([w.opened.then(() => true), new Promise((r) => setTimeout(() => r(false), 8000))]);
      if (!ok) return 'not open';
      const echoed = await new Promise<string>((r) => ((w.dc.onmessage = (m: MessageEvent) => r(String(m.data))), w.dc.send('hi')));
      w.pc.close();
      return echoed;
    }, answer.sdp);
    const rep = await peer.connected();
    return { echo, peer: rep.connected, transport: rep.turnTransport, ms: Date.now() - t0 };
  } finally {
    await peer.close();
  }
}

test('three parallel Chromium <-> answerer data channels over TURN/TCP, twice, all open', async () => {
  const pages = await Promise.all([0, 1, 2].map(() => ctx.newPage()));
  const results = [];
  for (let round = 0; round < 2; round++) results.push(...(await Promise.all(pages.map(attempt))));
  // eslint-disable-next-line no-console
  console.log('TURN/TCP answerer (ms):', results.map((r) => r.ms).join(', '));
  for (const r of results) expect(r).toMatchObject({ echo: 'hi', peer: true, transport: 'tcp' });
});
