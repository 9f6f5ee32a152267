// The operations endpoints: GET /healthz (200 when healthy, 503 otherwise,
// small JSON body) and GET /metrics (Prometheus text). Either as routes to
// mount in another server (the browser helper's extraRoutes), or as a small
// server of its own when the helper is off.
//
//   const ops = await startOpsServer({ host: '127.0.0.1', port: 9464, metrics, health: () => ({ ok: bot.syncing }) });
//   ...; await ops.close();
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VoiptestMetrics } from './metrics';

export interface Health {
  ok: boolean;
  /** Short, non-secret facts (e.g. { sync: 'running', uptimeS: 12 }). */
  detail?: Record<string, string | number | boolean | null>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface OpsRoutesOptions {
  metrics?: VoiptestMetrics;
  /** Default: always healthy (the process answers). */
  health?: () => Health | Promise<Health>;
}

/** Routes by path: '/healthz' and (when metrics are given) '/metrics'. */
export function opsRoutes(opts: OpsRoutesOptions): Record<string, Handler> {
  const routes: Record<string, Handler> = {
    '/healthz': (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      // A health probe that hangs is worse than one that says no: 2 s deadline.
      const deadline = new Promise<Health>((resolve) => setTimeout(() => resolve({ ok: false, detail: { error: 'health check timed out' } }), 2000).unref());
      Promise.race([Promise.resolve().then(() => (opts.health ? opts.health() : { ok: true })), deadline])
        .catch((): Health => ({ ok: false, detail: { error: 'health check failed' } }))
        .then((h) => {
          const body = JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', ...(h.detail ?? {}) });
          res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : body);
        });
    },
  };
  if (opts.metrics) routes['/metrics'] = opts.metrics.handler();
  return routes;
}

export interface OpsServer {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsRoutesOptions & { host?: string; port?: number }): Promise<OpsServer> {
  const routes = opsRoutes(opts);
  // Same bounds as the helper: headers within 2 s (checked every 500 ms), few sockets.
  const server: Server = createServer({ headersTimeout: 2000, requestTimeout: 5000, connectionsCheckingInterval: 500 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.maxConnections = 32;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Parse "host:port" / "[v6]:port" (the config's listen format). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`listen address must be host:port, got ${JSON.stringify(s)}`);
  return { host: (m[1] ?? m[2])!, port };
}
