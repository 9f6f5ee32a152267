// The browser helper as the bot sees it: start/stop the HTTP server, issue
// one-time links, and hear 'report' when a user's session produced a merged
// report (the bot posts it to the room the link was made for).
//
//   const helper = new HelperService({ config: { listen: '127.0.0.1:8080', publicBaseUrl }, engineOptions, logger });
//   await helper.start();
//   helper.on('report', ({ userId, roomId, report }) => postToRoom(roomId, report));
//   const { url, expiresAt } = helper.createLink(userId, roomId);
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderHtml } from '../render/html';
import { runCheck as engineRunCheck } from '../tester/engine';
import type { CheckOptions } from '../tester/options';
import type { Report } from '../tester/report';
import { boundUserTargets, DailyTargets, DEFAULT_USER_TARGET_POLICY, userEngineOptions, type UserTargetPolicy } from '../tester/user-targets';
import { loadAssets } from './assets';
import type { BrowserResults, MergedReport } from './browser-results';
import { DEFAULT_LINK_TTL_MS, LinkStore, type Link } from './links';
import { silentLogger, type Logger } from './logger';
import { createHelperServer, type RouteHandler } from './server';
import { HelperSession, type SessionOutcome } from './session';

export interface HelperConfig {
  /** "host:port" (port 0: any free port, for tests). */
  listen: string;
  /** Public URL behind the reverse proxy, e.g. https://voiptest.example.org (default: the bound address). */
  publicBaseUrl?: string | null;
  /** Link lifetime (default 15 min). */
  linkTtlMs?: number;
  /** Runs at once over all sessions (default 4). */
  maxSessions?: number;
  /**
   * Where the page may connect besides us (its user's homeserver): default
   * ['https:']. Lab use: add 'http://127.0.0.1:*' for a plain-HTTP Synapse.
   */
  connectSrc?: string[];
  /** How long after consent the page has to post results (default 3 min). */
  resultsDeadlineMs?: number;
}

export interface ReportEvent {
  userId: string;
  roomId: string;
  report: MergedReport;
  browser: BrowserResults | null;
}

export interface FailedEvent {
  userId: string;
  roomId: string;
  /** Safe to show: no credentials. */
  reason: string;
}

export interface HelperServiceOptions {
  config: HelperConfig;
  /** Default: the engine's runCheck. */
  runCheck?: (options: CheckOptions) => Promise<Report>;
  /** Engine options for runs on shared credentials (credentials come from the page). */
  engineOptions: Omit<CheckOptions, 'credentials'>;
  logger?: Logger;
  /** Extra GET routes by exact path, e.g. { '/metrics': handler } (ops). */
  extraRoutes?: Record<string, RouteHandler>;
  /** What shared URIs may reach (default: TURN ports, 12 targets, public addresses only). */
  userTargets?: UserTargetPolicy;
  /** Ports the bot's own deployment advertises (allowed besides the policy's). */
  ownPorts?: () => Promise<readonly number[]>;
}

export interface HelperService {
  on(event: 'report', listener: (ev: ReportEvent) => void): this;
  on(event: 'failed', listener: (ev: FailedEvent) => void): this;
  once(event: 'report', listener: (ev: ReportEvent) => void): this;
  once(event: 'failed', listener: (ev: FailedEvent) => void): this;
}

export class HelperService extends EventEmitter {
  readonly #opts: HelperServiceOptions;
  readonly #log: Logger;
  #links: LinkStore;
  readonly #sessions = new Map<string, { link: Link; session: HelperSession }>();
  #server: Server | null = null;
  #baseUrl: string | null = null;
  #sweeper: NodeJS.Timeout | null = null;
  readonly #daily = new DailyTargets();

  constructor(opts: HelperServiceOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#links = this.#newLinks();
  }

  /** The public base URL (after start()). */
  get baseUrl(): string {
    if (!this.#baseUrl) throw new Error('HelperService is not started');
    return this.#baseUrl;
  }

  /** Sessions that received credentials and have not finished (for metrics). */
  get activeSessions(): number {
    return [...this.#sessions.values()].filter((s) => s.session.state === 'running').length;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const { host, port } = parseListen(this.#opts.config.listen);
    const assets = await loadAssets();
    const server = createHelperServer({
      links: this.#links,
      assets,
      logger: this.#log,
      allowedOrigins: () => [new URL(this.baseUrl).origin],
      secureCookies: () => this.baseUrl.startsWith('https:'),
      connectSrc: this.#opts.config.connectSrc ?? ['https:'],
      session: (link) => this.#sessions.get(link.id)?.session,
      startSession: (link) => this.#startSession(link),
      boundUris: (link, uris) => this.#boundUris(link, uris),
      renderHtml: (report) => renderHtml(report, { matrix: true }),
      extraRoutes: this.#opts.extraRoutes,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.#log.error('helper server error', { error: e.message }));
    this.#server = server;
    const bound = server.address() as AddressInfo;
    const hostPart = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    this.#baseUrl = (this.#opts.config.publicBaseUrl ?? `http://${hostPart}:${bound.port}`).replace(/\/+$/, '');
    this.#sweeper = setInterval(() => this.#sweep(), 30000);
    this.#sweeper.unref();
    this.#log.info('browser helper listening', { address: `${hostPart}:${bound.port}`, publicBaseUrl: this.#baseUrl });
  }

  async stop(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
    await Promise.all([...this.#sessions.values()].map((s) => s.session.close()));
    this.#sessions.clear();
    const server = this.#server;
    this.#server = null;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  /** A one-time link for this user and room (send it to the user, in a DM preferably). */
  createLink(userId: string, roomId: string): { url: string; expiresAt: Date } {
    const { url, expiresAt } = this.#links.createLink(userId, roomId);
    return { url, expiresAt };
  }

  #newLinks(): LinkStore {
    return new LinkStore({ ttlMs: this.#opts.config.linkTtlMs ?? DEFAULT_LINK_TTL_MS, urlFor: (t) => `${this.baseUrl}/helper/${t}` });
  }

  get #policy(): UserTargetPolicy {
    return this.#opts.userTargets ?? DEFAULT_USER_TARGET_POLICY;
  }

  /** The shared URIs this user may have tested (throws UserTargetRefused); charges the targets to the user's day. */
  async #boundUris(link: Link, uris: readonly string[]): Promise<{ uris: string[]; skipped: { uri: string; why: string }[] }> {
    const o = this.#opts.engineOptions;
    const ownPorts = await (this.#opts.ownPorts?.() ?? Promise.resolve([])).catch(() => []);
    const b = await boundUserTargets({
      uris, requesterDomain: serverName(link.userId), policy: this.#policy, ownPorts,
      families: o.family === 'both' ? ['ipv4', 'ipv6'] : [o.family], lookup: o.lookup, usedToday: this.#daily.used(link.userId),
    });
    this.#daily.charge(link.userId, b.targets);
    return { uris: b.uris, skipped: b.skipped };
  }

  #startSession(link: Link): HelperSession | null {
    if (this.activeSessions >= (this.#opts.config.maxSessions ?? 4)) return null;
    const session = new HelperSession(
      {
        runCheck: this.#opts.runCheck ?? engineRunCheck,
        // Shared URIs come from users: their own policy, never the admin's allowPrivate.
        engineOptions: userEngineOptions(this.#opts.engineOptions, this.#policy),
        sharedBy: link.userId,
        resultsDeadlineMs: this.#opts.config.resultsDeadlineMs,
      },
      (o) => this.#done(link, o),
    );
    this.#sessions.set(link.id, { link, session });
    // The results page stays readable for a while after the run.
    this.#links.extend(link, Date.now() + (this.#opts.config.linkTtlMs ?? DEFAULT_LINK_TTL_MS));
    this.#log.info('browser helper: credentials shared, run started', { link: link.id.slice(0, 8), userId: link.userId, roomId: link.roomId });
    return session;
  }

  #done(link: Link, o: SessionOutcome): void {
    const base = { userId: link.userId, roomId: link.roomId };
    if (o.report) {
      this.#log.info('browser helper: report ready', { link: link.id.slice(0, 8), grade: o.report.grade.overall, browser: o.browser !== null });
      this.emit('report', { ...base, report: o.report, browser: o.browser } satisfies ReportEvent);
    } else {
      this.#log.warn('browser helper: run failed', { link: link.id.slice(0, 8) });
      this.emit('failed', { ...base, reason: o.error ?? 'The check failed.' } satisfies FailedEvent);
    }
  }

  #sweep(): void {
    this.#links.sweep();
    const now = Date.now();
    for (const [id, s] of this.#sessions) {
      if (s.session.state !== 'running' && now > s.link.expiresAt) this.#sessions.delete(id);
    }
  }
}

/** "@bob:example.org" -> "example.org". */
export function serverName(userId: string): string {
  const i = userId.indexOf(':');
  return i < 0 ? '' : userId.slice(i + 1).toLowerCase();
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`web.listen "${listen.slice(0, 60)}" is not host:port`);
  return { host: m[1] ?? m[2]!, port };
}
