// The helper page. It talks to the user's own homeserver (login, turnServer,
// logout) and, only after the consent click, to the bot: credentials, one
// relay-only offer per TURN URI, the results; then shows the merged report.
// Bundled by esbuild (src/web/assets.ts); no inline script, no third party.
// The wire types are the report model's browser section (declared once there).
import type { BrowserDataChannel, BrowserIceError, BrowserUriPosted, CandidateCounts, PairEnd } from '../../tester/report-browser';

type Policy = BrowserIceError['policy'];
interface TurnServerJson {
  uris: string[];
  username: string;
  password: string;
  ttl?: number;
}

const token = location.pathname.split('/').pop() ?? '';
const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const GATHER_MS = 5000;
const OPEN_MS = 10000;

// ---- small helpers ----------------------------------------------------------

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} took too long`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

async function fetchJson(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<{ status: number; json: any }> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), init.timeoutMs ?? 10000);
  try {
    const r = await fetch(url, { ...init, signal: ctl.signal, referrerPolicy: 'no-referrer' });
    const json = await r.json().catch(() => null);
    return { status: r.status, json };
  } catch (e) {
    throw new Error(ctl.signal.aborted ? `${new URL(url).host} did not answer in time` : `${new URL(url).host} could not be reached`);
  } finally {
    clearTimeout(t);
  }
}

/** Our own API: same origin, JSON, the session cookie goes along. */
async function api(action: string, body?: unknown): Promise<any> {
  const init: RequestInit & { timeoutMs?: number } = body === undefined ? { credentials: 'same-origin' } : {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    timeoutMs: 20000,
  };
  const { status, json } = await fetchJson(`/api/helper/${token}/${action}`, init);
  if (status >= 400 || !json?.ok) throw new Error(json?.error?.message ?? `the helper answered ${status}`);
  return json;
}

function say(el: HTMLElement, text: string, kind: '' | 'error' | 'ok' = ''): void {
  el.textContent = text;
  el.className = `status ${kind}`;
}

function progress(text: string, kind: '' | 'error' | 'ok' = ''): HTMLLIElement {
  const li = document.createElement('li');
  li.textContent = text;
  if (kind) li.className = kind;
  $('progress').append(li);
  return li;
}

function show(id: string, on = true): void {
  $(id).hidden = !on;
}

// ---- the user's homeserver --------------------------------------------------

function baseUrlOf(input: string): string {
  const s = input.trim();
  if (/^https?:\/\//i.test(s)) return s.replace(/\/+$/, '');
  if (!/^[a-z0-9.\-:[\]]+$/i.test(s)) throw new Error('Enter your homeserver as example.org or https://matrix.example.org');
  return `https://${s}`;
}

async function discover(input: string): Promise<string> {
  const base = baseUrlOf(input);
  try {
    const { status, json } = await fetchJson(`${base}/.well-known/matrix/client`, { timeoutMs: 5000 });
    const hs = json?.['m.homeserver']?.base_url;
    if (status === 200 && typeof hs === 'string' && /^https?:\/\//i.test(hs)) return hs.replace(/\/+$/, '');
  } catch {
    // no .well-known: the input is the client URL itself
  }
  return base;
}

function matrixError(status: number, json: any, what: string): Error {
  const words = typeof json?.error === 'string' ? json.error.slice(0, 200) : `HTTP ${status}`;
  return new Error(`${what}: ${words}`);
}

async function login(base: string, user: string, password: string): Promise<string> {
  const { status, json } = await fetchJson(`${base}/_matrix/client/v3/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: user.trim() },
      password,
      initial_device_display_name: 'VoIP test helper (temporary)',
    }),
  });
  if (status !== 200 || typeof json?.access_token !== 'string') throw matrixError(status, json, 'Sign-in failed');
  return json.access_token;
}

async function turnServer(base: string, accessToken: string): Promise<unknown> {
  const { status, json } = await fetchJson(`${base}/_matrix/client/v3/voip/turnServer`, { headers: { authorization: `Bearer ${accessToken}` } });
  if (status !== 200) throw matrixError(status, json, 'Your homeserver refused the TURN credentials');
  return json;
}

async function logout(base: string, accessToken: string): Promise<void> {
  await fetchJson(`${base}/_matrix/client/v3/logout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: '{}',
    timeoutMs: 5000,
  }).catch(() => undefined);
}

function checkTurnJson(j: unknown): TurnServerJson {
  const o = j as Partial<TurnServerJson> | null;
  if (!o || typeof o !== 'object' || Object.keys(o).length === 0) throw new Error('Your homeserver has no TURN server configured (it answered {}).');
  const uris = Array.isArray(o.uris) ? o.uris.filter((u): u is string => typeof u === 'string') : [];
  if (uris.length === 0 || typeof o.username !== 'string' || typeof o.password !== 'string') throw new Error('The answer lacks uris, username or password.');
  return { uris, username: o.username, password: o.password, ttl: typeof o.ttl === 'number' ? o.ttl : undefined };
}

// ---- step 1: get the credentials --------------------------------------------

let pending: { homeserver: string | null; turn: TurnServerJson } | null = null;

function method(): string {
  return (document.querySelector('input[name="method"]:checked') as HTMLInputElement | null)?.value ?? 'login';
}

function showFields(): void {
  const m = method();
  document.querySelectorAll<HTMLElement>('.field[data-for]').forEach((el) => (el.hidden = !(el.dataset.for ?? '').split(' ').includes(m)));
}

async function getCredentials(): Promise<void> {
  const status = $('login-status');
  const button = $<HTMLButtonElement>('fetch');
  button.disabled = true;
  try {
    const m = method();
    const hsInput = $<HTMLInputElement>('homeserver').value;
    if (m === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse($<HTMLTextAreaElement>('turn-json').value);
      } catch {
        throw new Error('That is not valid JSON.');
      }
      pending = { homeserver: hsInput.trim() ? baseUrlOf(hsInput) : null, turn: checkTurnJson(parsed) };
    } else {
      if (!hsInput.trim()) throw new Error('Enter your homeserver.');
      say(status, 'Finding your homeserver…');
      const base = await discover(hsInput);
      let accessToken: string;
      if (m === 'login') {
        say(status, 'Signing in…');
        accessToken = await login(base, $<HTMLInputElement>('username').value, $<HTMLInputElement>('password').value);
      } else {
        accessToken = $<HTMLInputElement>('access-token').value.trim();
        if (!accessToken) throw new Error('Paste your access token.');
      }
      try {
        say(status, 'Asking your homeserver for its TURN credentials…');
        pending = { homeserver: base, turn: checkTurnJson(await turnServer(base, accessToken)) };
      } finally {
        // Our own temporary session only; a pasted token belongs to the user's client.
        if (m === 'login') {
          say(status, 'Signing this temporary session out…');
          await logout(base, accessToken);
        }
      }
    }
    $<HTMLInputElement>('password').value = '';
    $<HTMLInputElement>('access-token').value = '';
    say(status, m === 'login' ? 'Got them (and signed out again).' : 'Got them.', 'ok');
    showShared(pending);
  } catch (e) {
    say(status, (e as Error).message, 'error');
  } finally {
    button.disabled = false;
  }
}

function showShared(p: { homeserver: string | null; turn: TurnServerJson }): void {
  const dl = $('shared');
  dl.textContent = '';
  const row = (term: string, value: string | Node) => {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.append(value);
    dl.append(dt, dd);
  };
  row('Homeserver', p.homeserver ?? '(not given)');
  const ul = document.createElement('ul');
  for (const u of p.turn.uris) {
    const li = document.createElement('li');
    const code = document.createElement('code');
    code.textContent = u;
    li.append(code);
    ul.append(li);
  }
  row(`TURN servers (${p.turn.uris.length})`, ul);
  row('Username', p.turn.username);
  row('Password', 'hidden here; shared with the bot only if you agree');
  row('Valid for', p.turn.ttl === undefined ? 'not said' : `${p.turn.ttl} s (${formatTtl(p.turn.ttl)})`);
  show('step-consent');
  $('consent').focus();
}

function formatTtl(s: number): string {
  if (s >= 86400) return `${+(s / 86400).toFixed(1)} days`;
  if (s >= 3600) return `${+(s / 3600).toFixed(1)} hours`;
  return `${Math.round(s / 60)} minutes`;
}

// ---- step 2: consent ----------------------------------------------------------

function decline(): void {
  pending = null; // nothing leaves the page
  show('step-login', false);
  show('step-consent', false);
  show('step-declined');
}

async function consent(): Promise<void> {
  if (!pending) return;
  const p = pending;
  pending = null;
  $<HTMLButtonElement>('consent').disabled = true;
  $<HTMLButtonElement>('decline').disabled = true;
  for (const id of ['intro', 'step-login', 'step-consent']) show(id, false);
  show('step-test');
  try {
    progress(`Sending the credentials for ${p.turn.uris.length} TURN server(s) to the bot…`);
    const r = await api('credentials', { homeserver: p.homeserver, turnServer: p.turn });
    progress('The bot is testing from its side.', 'ok');
    const results = await browserTest(r.uris as string[], p.turn);
    progress('Sending your results to the bot…');
    await api('results', { userAgent: navigator.userAgent, perUri: results });
    await showReport();
  } catch (e) {
    progress(`Stopped: ${(e as Error).message}`, 'error');
  }
}

// ---- step 3: the browser-side test ------------------------------------------

function iceServer(uri: string, t: TurnServerJson): RTCIceServer {
  return uri.startsWith('stun:') ? { urls: uri } : { urls: uri, username: t.username, credential: t.password };
}

async function gather(uri: string, t: TurnServerJson, policy: Policy): Promise<{ counts: CandidateCounts; errors: BrowserIceError[] }> {
  const counts: CandidateCounts = { host: 0, srflx: 0, relay: 0 };
  const errors: BrowserIceError[] = [];
  let pc: RTCPeerConnection;
  try {
    pc = new RTCPeerConnection({ iceServers: [iceServer(uri, t)], iceTransportPolicy: policy });
  } catch (e) {
    return { counts, errors: [{ code: 0, url: uri, text: `the browser refused this URI: ${(e as Error).message}`, policy }] };
  }
  try {
    pc.createDataChannel('gather');
    const done = new Promise<void>((resolve) => {
      pc.onicecandidate = (ev) => {
        if (!ev.candidate) return resolve();
        const type = ev.candidate.type;
        if (type === 'host' || type === 'srflx' || type === 'relay') counts[type] += 1;
      };
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    });
    pc.onicecandidateerror = (ev) => {
      const e = ev as RTCPeerConnectionIceErrorEvent;
      if (errors.length < 16) errors.push({ code: e.errorCode, url: e.url ?? uri, text: e.errorText ?? '', policy });
    };
    await pc.setLocalDescription(await pc.createOffer());
    await Promise.race([done, new Promise((r) => setTimeout(r, GATHER_MS))]);
  } finally {
    pc.close();
  }
  return { counts, errors };
}

function waitGathering(pc: RTCPeerConnection, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    const check = () => pc.iceGatheringState === 'complete' && (clearTimeout(t), resolve());
    pc.addEventListener('icegatheringstatechange', check);
    check();
  });
}

async function selectedPair(pc: RTCPeerConnection): Promise<BrowserDataChannel['selectedPair']> {
  const stats = await pc.getStats();
  const all = new Map<string, any>();
  let pairId = '';
  stats.forEach((s: any) => {
    all.set(s.id, s);
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  if (!pairId) stats.forEach((s: any) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && (pairId = s.id));
  const pair = all.get(pairId);
  if (!pair) return null;
  const end = (c: any): PairEnd => ({ type: c?.candidateType ?? 'unknown', protocol: c?.protocol ?? 'unknown', relayProtocol: c?.relayProtocol ?? null });
  return { local: end(all.get(pair.localCandidateId)), remote: end(all.get(pair.remoteCandidateId)) };
}

/** Relay-only data channel to the bot's answering peer through this URI: greet, then time a few echoes. */
async function dataChannel(uri: string, t: TurnServerJson): Promise<BrowserDataChannel> {
  const fail = (error: string, connectMs: number | null = null): BrowserDataChannel => ({ ok: false, rttMs: null, connectMs, selectedPair: null, error });
  const pc = new RTCPeerConnection({ iceServers: [iceServer(uri, t)], iceTransportPolicy: 'relay' });
  try {
    const dc = pc.createDataChannel('mx-voiptest', { ordered: true });
    const opened = new Promise<void>((resolve) => (dc.onopen = () => resolve()));
    const messages: string[] = [];
    let waiter: (() => void) | null = null;
    dc.onmessage = (m) => {
      messages.push(String(m.data));
      waiter?.();
    };
    const next = () =>
      withTimeout(
        new Promise<string>((resolve) => {
          const take = () => messages.length > 0 && (waiter = null, resolve(messages.shift()!));
          waiter = () => void take();
          take();
        }),
        3000,
        'the echo',
      );
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathering(pc, GATHER_MS);
    const sdp = pc.localDescription?.sdp ?? '';
    if (!/typ relay/.test(sdp)) return fail('the browser got no relay candidate from this server');
    const t0 = performance.now();
    const answer = await api('offer', { uri, sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    const ok = await Promise.race([opened.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), OPEN_MS))]);
    const connectMs = Math.round(performance.now() - t0);
    if (!ok) return fail(`the data channel did not open (ICE ${pc.iceConnectionState})`, connectMs);
    dc.send('hello from your browser');
    if ((await next()) !== 'hello from your browser') return fail('the greeting came back changed', connectMs);
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      dc.send(`ping ${i}`);
      await next();
      rtts.push(performance.now() - s);
    }
    rtts.sort((a, b) => a - b);
    return { ok: true, rttMs: Math.round(rtts[Math.floor(rtts.length / 2)]! * 10) / 10, connectMs, selectedPair: await selectedPair(pc), error: null };
  } catch (e) {
    return fail((e as Error).message);
  } finally {
    pc.close();
  }
}

async function testUri(uri: string, t: TurnServerJson): Promise<BrowserUriPosted> {
  const isTurn = /^turns?:/i.test(uri);
  const line = progress(`${uri}: gathering candidates…`);
  const [all, relay] = await Promise.all([gather(uri, t, 'all'), isTurn ? gather(uri, t, 'relay') : Promise.resolve(null)]);
  let dc: BrowserDataChannel | null = null;
  if (isTurn) {
    line.textContent = `${uri}: connecting to the bot through the relay…`;
    dc = await dataChannel(uri, t);
  }
  const where = isTurn ? (dc?.ok ? `data channel open, round trip ${dc.rttMs} ms` : `no data channel: ${dc?.error ?? 'unknown'}`) : `${all.counts.srflx} server-reflexive candidate(s)`;
  line.textContent = `${uri}: ${where}`;
  line.className = isTurn ? (dc?.ok ? 'ok' : 'error') : all.counts.srflx > 0 ? 'ok' : 'error';
  return { uri, candidates: all.counts, relayOnly: relay ? relay.counts.relay : null, errors: [...all.errors, ...(relay?.errors ?? [])], dataChannel: dc };
}

async function browserTest(uris: string[], t: TurnServerJson): Promise<BrowserUriPosted[]> {
  return Promise.all(uris.map((u) => testUri(u, t)));
}

// ---- step 4: the report -------------------------------------------------------

async function showReport(): Promise<void> {
  const line = progress('Waiting for the report…');
  const until = Date.now() + 120000;
  while (Date.now() < until) {
    const r = await api('report');
    if (r.state === 'done' && typeof r.html === 'string') {
      line.textContent = 'Report ready.';
      line.className = 'ok';
      // Rendered by the bot from escaped text (the same HTML the room gets).
      $('report').innerHTML = r.html;
      // The part only this page could measure is shown unfolded here.
      $('report').querySelectorAll('details').forEach((d) => {
        if (d.querySelector('summary')?.textContent?.trim() === 'From your network') d.open = true;
      });
      show('step-results');
      $('step-results').scrollIntoView();
      document.body.dataset.state = 'done';
      return;
    }
    if (r.state === 'failed') throw new Error(r.error ?? 'the check failed');
    await new Promise((res) => setTimeout(res, 1500));
  }
  throw new Error('the report did not arrive in time');
}

// ---- wiring ---------------------------------------------------------------------

async function init(): Promise<void> {
  document.querySelectorAll('input[name="method"]').forEach((el) => el.addEventListener('change', showFields));
  showFields();
  $('fetch').addEventListener('click', () => void getCredentials());
  $('consent').addEventListener('click', () => void consent());
  $('decline').addEventListener('click', decline);
  for (const id of ['homeserver', 'username', 'password', 'access-token']) {
    $(id).addEventListener('keydown', (e) => (e as KeyboardEvent).key === 'Enter' && void getCredentials());
  }
  // A reload after the test: show the report again.
  try {
    const r = await api('report');
    if (r.state !== 'waiting') {
      for (const id of ['intro', 'step-login']) show(id, false);
      show('step-test');
      await showReport();
    }
  } catch {
    // no session yet
  }
  document.body.dataset.ready = '1';
}

void init();
