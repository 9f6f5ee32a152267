// The bot's HTTP side: the browser helper (web.enabled) and the operations
// endpoints (/healthz, /metrics on ops.listen). When both use the same listen
// address, one server (the helper's) serves both; otherwise ops gets a small
// server of its own. An ops listener that cannot bind is logged, not fatal:
// the bot's job is the chat, and a failing health probe makes it visible.
import type { BotConfig } from '../config';
import type { Logger } from '../ops/log';
import type { VoiptestMetrics } from '../ops/metrics';
import { opsRoutes, parseListen, startOpsServer, type Health } from '../ops/server';
import type { CheckOptions } from '../tester/options';
import type { Report } from '../tester/report';
import type { UserTargetPolicy } from '../tester/user-targets';
import { HelperService } from '../web/service';

export interface Endpoints {
  helper: HelperService | null;
  /** Where /healthz and /metrics answer (null: disabled or not bound). */
  opsUrl: string | null;
  stop(): Promise<void>;
}

export interface EndpointOptions {
  config: BotConfig;
  metrics: VoiptestMetrics;
  health: () => Health;
  engineOptions: Omit<CheckOptions, 'credentials'>;
  runCheck: (o: CheckOptions) => Promise<Report>;
  log: Logger;
  /** Ports the bot's own deployment advertises (user-shared URIs may use them too). */
  ownPorts?: () => Promise<readonly number[]>;
}

/** The user-target policy from the config. */
export function userTargetPolicyOf(c: BotConfig['userTargets']): UserTargetPolicy {
  return { ports: c.ports.map(Number), maxPerRun: c.maxPerRun, maxPerUserPerDay: c.maxPerUserPerDay, sameDomain: c.sameDomain, allowRanges: c.allowRanges };
}

/** "127.0.0.1:0" and " 127.0.0.1:0 " are the same address; hosts compare case-insensitively. */
export function sameListen(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

export async function startEndpoints(o: EndpointOptions): Promise<Endpoints> {
  const { web, ops } = o.config;
  const routes = ops.listen ? opsRoutes({ metrics: o.metrics, health: o.health }) : undefined;
  const shared = Boolean(ops.listen) && web.enabled && sameListen(ops.listen, web.listen);
  let helper: HelperService | null = null;
  let opsUrl: string | null = null;
  let closeOps: (() => Promise<void>) | null = null;
  if (web.enabled) {
    helper = new HelperService({
      config: {
        listen: web.listen,
        publicBaseUrl: web.publicBaseUrl,
        linkTtlMs: web.linkTtl * 1000,
        maxSessions: web.maxSessions,
        connectSrc: ['https:', ...web.connectSrc],
      },
      engineOptions: o.engineOptions,
      runCheck: o.runCheck,
      logger: o.log.child({ component: 'helper' }),
      extraRoutes: shared ? routes : undefined,
      userTargets: userTargetPolicyOf(o.config.userTargets),
      ownPorts: o.ownPorts,
    });
    await helper.start();
    if (shared) {
      opsUrl = helper.baseUrl;
      o.log.info('ops endpoints served by the helper server', { listen: web.listen });
    }
  }
  if (routes && !shared) {
    try {
      const { host, port } = parseListen(ops.listen);
      const server = await startOpsServer({ host, port, metrics: o.metrics, health: o.health });
      opsUrl = server.url;
      closeOps = () => server.close();
      o.log.info('ops endpoints listening', { url: server.url });
    } catch (e) {
      o.log.error('ops endpoints could not listen; /healthz and /metrics are off', { listen: ops.listen, error: (e as NodeJS.ErrnoException).code ?? String(e) });
    }
  }
  return {
    helper,
    opsUrl,
    async stop() {
      await helper?.stop().catch((e) => o.log.warn('helper stop failed', { error: String(e) }));
      await closeOps?.().catch(() => undefined);
    },
  };
}
