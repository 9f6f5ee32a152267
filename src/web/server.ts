// The helper's HTTP routes (node:http, no framework):
//   GET  /healthz                          liveness
//   GET  /static/helper.{js,css}           the page's bundle and style
//   GET  /helper/<token>                   the page (claims the link for this browser)
//   POST /api/helper/<token>/credentials   consent: the TURN credentials the page fetched
//   POST /api/helper/<token>/offer         relay-only SDP offer -> our answer
//   POST /api/helper/<token>/results       what the browser measured
//   GET  /api/helper/<token>/report        the merged report (state, HTML, JSON)
//   + extraRoutes (e.g. /metrics from ops)
// The token in the path is the only way in; API calls also need the session
// cookie set by the page load (HttpOnly, SameSite=Strict), a same-origin
// Origin on POSTs and a JSON body. URLs are never logged (they hold tokens).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { classifyTurnServerAnswer } from '../tester/credentials/homeserver';
import { UserTargetRefused } from '../tester/user-targets';
import type { Logger } from './logger';
import { type Assets } from './assets';
import { BrowserResultsError, parseBrowserResults } from './browser-results';
import { checkOrigin, cookie, csp, HttpFail, RateLimiter, readCookie, readJson, send, sendError, sendJson } from './http';
import type { Link, LinkStore } from './links';
import { LINK_PROBLEMS, problemPage, type LinkProblem } from './pages';
import { SessionError, type HelperSession } from './session';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HelperServerContext {
  links: LinkStore;
  assets: Assets;
  logger: Logger;
  /** Origins allowed on POSTs (the public base URL's origin). */
  allowedOrigins: () => readonly string[];
  /** Set the cookie's Secure flag (public URL is https). */
  secureCookies: () => boolean;
  connectSrc: string[];
  /** The session of a link, if it consented. */
  session(link: Link): HelperSession | undefined;
  /** Start a session on consent; null when too many runs are going. */
  startSession(link: Link): HelperSession | null;
  /** The shared URIs that may be tested (throws UserTargetRefused when the run would reach too much). */
  boundUris(link: Link, uris: readonly string[]): Promise<{ uris: string[]; skipped: { uri: string; why: string }[] }>;
  /** The merged report as the room's HTML (same renderer). */
  renderHtml(report: NonNullable<ReturnType<HelperSession['view']>['report']>): string;
  extraRoutes?: Record<string, RouteHandler>;
  limits?: { credentialsBytes?: number; offerBytes?: number; resultsBytes?: number; burst?: number; perMinute?: number; maxConnections?: number };
}

const COOKIE = 'mxvh';
export const HEADERS_TIMEOUT_MS = 2000;
export const MAX_CONNECTIONS = 128;
const PAGE = /^\/helper\/([^/]+)$/;
const API = /^\/api\/helper\/([^/]+)\/(credentials|offer|results|report)$/;

export function createHelperServer(ctx: HelperServerContext): Server {
  const limits = { credentialsBytes: 16 * 1024, offerBytes: 64 * 1024, resultsBytes: 64 * 1024, burst: 30, perMinute: 60, ...ctx.limits };
  const limiter = new RateLimiter(limits.burst, limits.perMinute);
  // Headers within 2 s, checked every 500 ms (Node's default check runs every 30 s:
  // a slow client held a socket ~33 s); at most maxConnections sockets at once.
  const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 15000, connectionsCheckingInterval: 500 }, (req, res) => {
    const t0 = performance.now();
    let route = 'other';
    const finish = () => ctx.logger.debug('helper http', { method: req.method, route, status: res.statusCode, ms: Math.round(performance.now() - t0) });
    res.on('finish', finish);
    void (async () => {
      try {
        route = await handle(req, res);
      } catch (e) {
        if (e instanceof HttpFail || e instanceof SessionError) return sendError(res, e.status, e.code, e.message);
        ctx.logger.error('helper request failed', { route, error: (e as Error)?.name ?? 'Error' });
        sendError(res, 500, 'internal', 'The helper could not answer this request.');
      }
    })();
  });
  server.keepAliveTimeout = 5000;
  server.maxHeadersCount = 50;
  server.maxConnections = ctx.limits?.maxConnections ?? MAX_CONNECTIONS;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    // The bot's health (ops, via extraRoutes) wins over plain liveness when mounted here.
    if (path === '/healthz' && method === 'GET' && !ctx.extraRoutes?.['/healthz']) {
      sendJson(res, 200, { ok: true });
      return 'healthz';
    }
    if (method === 'GET' && (path === '/static/helper.js' || path === '/static/helper.css')) {
      const a = ctx.assets[path === '/static/helper.js' ? 'helper.js' : 'helper.css'];
      send(res, 200, a.type, a.body);
      return 'static';
    }
    if (path === '/favicon.ico' && method === 'GET') {
      send(res, 204, 'image/x-icon', '');
      return 'static';
    }
    const page = PAGE.exec(path);
    if (page && method === 'GET') {
      servePage(req, res, page[1]!);
      return 'page';
    }
    const api = API.exec(path);
    if (api) {
      await serveApi(req, res, method, api[1]!, api[2]!);
      return api[2]!;
    }
    const extra = ctx.extraRoutes?.[path];
    if (extra) {
      await extra(req, res);
      return 'extra';
    }
    sendError(res, 404, 'not-found', 'Not found.');
    return 'not-found';
  }

  function problem(res: ServerResponse, p: LinkProblem): void {
    const { status, html } = problemPage(p);
    send(res, status, 'text/html; charset=utf-8', html, { 'content-security-policy': csp({ connectSrc: [] }) });
  }

  function servePage(req: IncomingMessage, res: ServerResponse, token: string): void {
    const claimed = ctx.links.claim(token, readCookie(req, COOKIE));
    if (!claimed.ok) return problem(res, claimed.reason);
    const extra: Record<string, string | string[]> = { 'content-security-policy': csp({ connectSrc: ctx.connectSrc }) };
    if (claimed.newKey) {
      const maxAgeS = (claimed.link.expiresAt - Date.now()) / 1000 + 3600;
      const o = { maxAgeS, secure: ctx.secureCookies() };
      extra['set-cookie'] = [cookie(COOKIE, claimed.newKey, { ...o, path: `/helper/${token}` }), cookie(COOKIE, claimed.newKey, { ...o, path: `/api/helper/${token}` })];
    }
    const a = ctx.assets['helper.html'];
    send(res, 200, a.type, a.body, extra);
  }

  async function serveApi(req: IncomingMessage, res: ServerResponse, method: string, token: string, action: string): Promise<void> {
    const found = ctx.links.lookup(token);
    if (!found.ok) {
      const p = problemPage(found.reason);
      return sendError(res, p.status, found.reason, problemText(found.reason));
    }
    const link = found.link;
    if (!ctx.links.sessionMatches(link, readCookie(req, COOKIE))) throw new HttpFail(403, 'session', 'Open the link in your browser first; each link serves one browser session.');
    if (!limiter.take(link.id)) throw new HttpFail(429, 'rate-limited', 'Too many requests; slow down.');
    const wantGet = action === 'report';
    if (method !== (wantGet ? 'GET' : 'POST')) throw new HttpFail(405, 'method', 'Method not allowed.');
    if (!wantGet) checkOrigin(req, ctx.allowedOrigins(), true);
    switch (action) {
      case 'credentials':
        return consent(res, link, await readJson(req, limits.credentialsBytes));
      case 'offer':
        return offer(res, link, await readJson(req, limits.offerBytes));
      case 'results':
        return results(res, link, await readJson(req, limits.resultsBytes));
      default:
        return report(res, link);
    }
  }

  async function consent(res: ServerResponse, link: Link, body: unknown): Promise<void> {
    if (link.state === 'spent' || ctx.session(link)) throw new HttpFail(409, 'already-started', 'This link already received credentials.');
    const b = (body ?? {}) as { homeserver?: unknown; turnServer?: unknown };
    // The page's word only: shape-checked, shown as what the user said, never a target's identity.
    const homeserver = b.homeserver === undefined || b.homeserver === null ? undefined : checkedHomeserver(b.homeserver);
    const judged = classifyTurnServerAnswer(b.turnServer, homeserver);
    if (judged.kind !== 'ok') throw new HttpFail(400, judged.kind, `These TURN credentials cannot be used: ${judged.detail}.`);
    let bounded;
    try {
      bounded = await ctx.boundUris(link, judged.credentials.uris);
    } catch (e) {
      if (e instanceof UserTargetRefused) throw new HttpFail(400, e.code, e.message);
      throw e;
    }
    // Checked again: a second POST may have consented while we looked the names up.
    if ((link.state as Link['state']) === 'spent' || ctx.session(link)) throw new HttpFail(409, 'already-started', 'This link already received credentials.');
    const session = ctx.startSession(link);
    if (!session) throw new HttpFail(503, 'busy', 'Too many tests are running right now; try again in a minute.');
    ctx.links.spend(link);
    const creds = { ...judged.credentials, uris: bounded.uris, source: { kind: 'shared' as const, homeserver } };
    const { uris } = session.consent(creds, bounded.skipped);
    sendJson(res, 200, { ok: true, uris, skipped: bounded.skipped });
  }

  async function offer(res: ServerResponse, link: Link, body: unknown): Promise<void> {
    const session = ctx.session(link);
    if (!session) throw new HttpFail(409, 'not-running', 'Share the credentials first.');
    const b = (body ?? {}) as { uri?: unknown; sdp?: unknown };
    if (typeof b.uri !== 'string' || typeof b.sdp !== 'string') throw new HttpFail(400, 'bad-offer', 'Send {uri, sdp}.');
    sendJson(res, 200, { ok: true, sdp: await session.answer(b.uri, b.sdp) });
  }

  function results(res: ServerResponse, link: Link, body: unknown): void {
    const session = ctx.session(link);
    if (!session || session.state !== 'running') throw new HttpFail(409, 'not-running', 'No test is running for this link.');
    let parsed;
    try {
      parsed = parseBrowserResults(body, session.uris);
    } catch (e) {
      if (e instanceof BrowserResultsError) throw new HttpFail(400, 'bad-results', e.message);
      throw e;
    }
    void session.finish(parsed);
    sendJson(res, 202, { ok: true });
  }

  function report(res: ServerResponse, link: Link): void {
    const session = ctx.session(link);
    if (!session) return sendJson(res, 200, { ok: true, state: 'waiting' });
    const v = session.view();
    sendJson(res, 200, { ok: true, state: v.state, error: v.error, report: v.report, html: v.report ? ctx.renderHtml(v.report) : null });
  }

  return server;
}

/** An http(s) URL of at most 200 characters without credentials, query or fragment; else a 400. */
function checkedHomeserver(v: unknown): string {
  let u: URL | null = null;
  try {
    u = typeof v === 'string' && v.length <= 200 ? new URL(v) : null;
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.search || u.hash) {
    throw new HttpFail(400, 'bad-homeserver', 'homeserver must be the http(s) URL of your homeserver.');
  }
  return u.origin + u.pathname.replace(/\/+$/, '');
}

function problemText(reason: LinkProblem): string {
  return LINK_PROBLEMS[reason].text;
}
