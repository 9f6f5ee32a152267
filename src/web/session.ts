// One helper session (one link, one browser): holds the shared TURN
// credentials for the run only, starts the server-side engine on them, answers
// the page's relay-only offers (one answering peer per URI), and on the page's
// results (or a deadline) merges everything into one report. Credentials are
// dropped as soon as the run and the peers are done.
import { RunRefusedError } from '../tester/engine';
import type { TurnCredentials } from '../tester/credentials/types';
import { checkTarget } from '../tester/guard';
import type { CheckOptions } from '../tester/options';
import { dnsLookup } from '../tester/probes/dns';
import type { Report } from '../tester/report';
import { parseIceUri } from '../tester/uri';
import { userTargetReport } from '../tester/user-targets';
import { AnswererError, AnsweringPeer, type AnswererReport } from './answerer';
import { mergeBrowser, type BrowserResults, type MergedReport, type PeerSide } from './browser-results';

export type SessionState = 'waiting' | 'running' | 'done' | 'failed';

export interface SessionDeps {
  runCheck: (options: CheckOptions) => Promise<Report>;
  engineOptions: Omit<CheckOptions, 'credentials'>;
  /** Answering peer life (default 60 s). */
  peerLifetimeMs?: number;
  /** How long after consent the page has to post its results (default 3 min). */
  resultsDeadlineMs?: number;
  /** Who shared the credentials (the link's user): the report is labelled with it. */
  sharedBy?: string;
}

export class SessionError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'SessionError';
  }
}

export interface SessionOutcome {
  report: MergedReport | null;
  browser: BrowserResults | null;
  error: string | null;
}

export class HelperSession {
  state: SessionState = 'waiting';
  #creds: TurnCredentials | null = null;
  #uris: string[] = [];
  #engine: Promise<Report> | null = null;
  readonly #peers = new Map<string, AnsweringPeer>();
  readonly #peerSides = new Map<string, PeerSide>();
  #report: MergedReport | null = null;
  #error: string | null = null;
  #finishing: Promise<SessionOutcome> | null = null;
  #deadline: NodeJS.Timeout | null = null;
  #skipped: { uri: string; why: string }[] = [];

  constructor(
    private readonly deps: SessionDeps,
    private readonly onDone: (o: SessionOutcome) => void,
  ) {}

  get uris(): readonly string[] {
    return this.#uris;
  }

  /** The user consented: keep the credentials for this run, start the engine now. */
  consent(creds: TurnCredentials, skipped: { uri: string; why: string }[] = []): { uris: string[] } {
    if (this.state !== 'waiting') throw new SessionError(409, 'already-started', 'This session already received credentials.');
    this.#creds = creds;
    this.#skipped = skipped;
    this.#uris = creds.uris.slice();
    this.state = 'running';
    const options: CheckOptions = { ...this.deps.engineOptions, credentials: { kind: 'shared', credentials: creds } };
    this.#engine = this.deps.runCheck(options);
    this.#engine.catch(() => undefined); // judged in finish()
    this.#deadline = setTimeout(() => void this.finish(null), this.deps.resultsDeadlineMs ?? 180000);
    return { uris: this.#uris };
  }

  /** A relay-only offer from the page for one of the shared turn:/turns: URIs. */
  async answer(uri: string, sdp: string): Promise<string> {
    if (this.state !== 'running' || !this.#creds) throw new SessionError(409, 'not-running', 'Share the credentials first.');
    if (!this.#uris.includes(uri)) throw new SessionError(400, 'unknown-uri', 'That URI was not shared.');
    if (this.#peers.has(uri)) throw new SessionError(409, 'already-offered', 'That URI was already tested.');
    let parsed;
    try {
      parsed = parseIceUri(uri);
    } catch {
      throw new SessionError(400, 'bad-uri', 'That URI cannot be parsed.');
    }
    if (parsed.scheme === 'stun') throw new SessionError(400, 'not-turn', 'A stun: URI carries no relay.');
    const address = await this.#resolve(parsed.host, parsed.ipLiteral);
    const o = this.deps.engineOptions;
    const peer = new AnsweringPeer({
      turn: { uri: parsed, address, username: this.#creds.username, password: this.#creds.password, ca: o.ca },
      allowPrivateCandidates: o.allowPrivate,
      assumePublic: o.assumePublic,
      lifetimeMs: this.deps.peerLifetimeMs ?? 60000,
    });
    this.#peers.set(uri, peer);
    void peer.done().then((r) => this.#peerSides.set(uri, peerSide(r)));
    try {
      return (await peer.answer(sdp)).sdp;
    } catch (e) {
      const reason = e instanceof AnswererError ? e.reason : 'failed';
      const words: Record<string, string> = {
        'bad-offer': 'The offer is not a usable SDP offer.',
        'no-relay-candidate': 'The TURN server gave our side no relay candidate for this URI.',
        timeout: 'Our side got no relay candidate in time for this URI.',
      };
      throw new SessionError(reason === 'bad-offer' ? 400 : 502, reason, words[reason] ?? 'Our side could not answer.');
    }
  }

  /** The page's results (or null at the deadline): wait for the engine, merge, drop the credentials. */
  finish(browser: BrowserResults | null): Promise<SessionOutcome> {
    if (this.#finishing) return this.#finishing;
    this.#finishing = this.#finish(browser);
    return this.#finishing;
  }

  async #finish(browser: BrowserResults | null): Promise<SessionOutcome> {
    if (this.#deadline) clearTimeout(this.#deadline);
    let report: Report | null = null;
    try {
      if (this.#engine) report = await this.#engine;
      else this.#error = 'No credentials were shared.';
    } catch (e) {
      this.#error = e instanceof RunRefusedError ? `The check could not start: ${e.message}` : 'The check failed unexpectedly.';
    }
    // Peers first: the channel may still be open; their reports say what our side saw.
    await Promise.all([...this.#peers.values()].map((p) => p.close('closed')));
    for (const [uri, p] of this.#peers) this.#peerSides.set(uri, peerSide(await p.done()));
    this.#peers.clear();
    this.#creds = null;
    this.#engine = null;
    this.#report = report ? mergeBrowser(this.#asShared(report), browser, this.#peerSides) : null;
    this.state = this.#report ? 'done' : 'failed';
    const outcome = { report: this.#report, browser, error: this.#error };
    this.onDone(outcome);
    return outcome;
  }

  /** User targets: "not a TURN server" for silent ones, labelled by who shared them (never as a homeserver of its own). */
  #asShared(report: Report): Report {
    const r = userTargetReport(report, this.#skipped);
    const by = this.deps.sharedBy;
    if (!by) return r;
    const domain = by.slice(by.indexOf(':') + 1);
    return { ...r, source: { kind: 'shared', homeserver: `${domain}, as shared by ${by}` } };
  }

  view(): { state: SessionState; report: MergedReport | null; error: string | null } {
    return { state: this.state, report: this.#report, error: this.#error };
  }

  /** Service shutdown or link expiry: end everything, emit nothing more. */
  async close(): Promise<void> {
    if (this.#deadline) clearTimeout(this.#deadline);
    await Promise.all([...this.#peers.values()].map((p) => p.close('closed')));
    this.#peers.clear();
    this.#creds = null;
  }

  async #resolve(host: string, ipLiteral: 0 | 4 | 6): Promise<string> {
    const o = this.deps.engineOptions;
    let address: string | undefined = ipLiteral ? host : undefined;
    if (!address) {
      const lookup = o.lookup ?? dnsLookup;
      const families: Array<'A' | 'AAAA'> = o.family === 'ipv6' ? ['AAAA'] : ['A', 'AAAA'];
      for (const rr of families) {
        address = (await lookup(host, rr)).addrs[0];
        if (address) break;
      }
    }
    if (!address) throw new SessionError(502, 'dns', 'The TURN server name does not resolve here.');
    const v = checkTarget(address, { allowPrivate: o.allowPrivate, assumePublic: o.assumePublic });
    if (!v.allowed) throw new SessionError(400, 'refused-target', v.reason);
    return address;
  }
}

function peerSide(r: AnswererReport): PeerSide {
  return { connected: r.connected, turnTransport: r.turnTransport, connectMs: r.connectMs, endReason: r.endReason };
}
