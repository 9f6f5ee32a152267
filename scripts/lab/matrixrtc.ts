// The lab MatrixRTC stack in one call: a real LiveKit SFU, the authorization
// service STAND-IN (rtc-auth-standin.ts: lk-jwt-service is served by no
// registry here) and Synapse with MSC4143 (rtc/transports), the well-known
// rtc_foci and an openid/federation listener. Each part is stopped by PID.
// Faults are injected through the options, one at a time (test/scenarios).
//
//   const rtc = await startMatrixRtcLab();
//   const alice = await rtc.synapse.registerUser('alice', 'pw');
//   // voiptest check --homeserver rtc.synapse.url ... --rtc --allow-private
//   await rtc.stop();
import { startLiveKit, type LiveKitLab, type LiveKitOptions } from './livekit';
import { createLab, type NetLab } from './netns';
import { findFreeTcpPort } from './ports';
import { startRtcAuthStandin, type StandinLab } from './rtc-auth-standin';
import { startSynapse, type SynapseLab, type SynapseOptions } from './synapse';

export interface MatrixRtcLabOptions {
  livekit?: LiveKitOptions;
  /**
   * LiveKit in its own network namespace (host 'sfu', a 198.18.x.11 address, standard ports), so
   * firewall faults (lab.drop) and relay-only media are real; default true. false: LiveKit on loopback.
   */
  netns?: boolean;
  /** Where the transport is advertised; default both. */
  advertise?: { endpoint?: boolean; wellKnown?: boolean; msc4143?: boolean };
  /** LIVEKIT_FULL_ACCESS_HOMESERVERS of the stand-in; default ['*']. */
  fullAccessHomeservers?: string[];
  /** The stand-in uses this API secret instead of LiveKit's (the "keys differ" fault). */
  standinSecret?: string;
  /** The stand-in behaves like an older lk-jwt-service (no /get_token). */
  legacyService?: boolean;
  /** Do not start the authorization service (advertised URL answers nothing). */
  serviceDown?: boolean;
  /** Synapse without its openid/federation listener (the service cannot verify OpenID). */
  noFederation?: boolean;
  /** The SFU URL the service hands out instead of LiveKit's (e.g. a closed port). */
  sfuUrlOverride?: string;
  synapse?: SynapseOptions;
}

export interface MatrixRtcLab {
  livekit: LiveKitLab;
  /** The namespace lab LiveKit runs in (null with netns: false); lab.drop('sfu', ...) injects firewall faults. */
  net: NetLab | null;
  /** CIDR to pass as --assume-public: the lab's SFU addresses count as public. */
  assumePublic: string[];
  standin: StandinLab | null;
  synapse: SynapseLab;
  /** The advertised livekit_service_url. */
  serviceUrl: string;
  stop(): Promise<void>;
}

export async function startMatrixRtcLab(opts: MatrixRtcLabOptions = {}): Promise<MatrixRtcLab> {
  const servicePort = await findFreeTcpPort('127.0.0.1');
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  const transport = { type: 'livekit', livekit_service_url: serviceUrl };
  const adv = { endpoint: true, wellKnown: true, msc4143: true, ...opts.advertise };
  const started: { stop(): Promise<void> }[] = [];
  // LiveKit first, the namespace last (destroy() also kills what is left inside).
  const stopAll = async () => {
    const net = started.filter((s) => s === netStop);
    await Promise.all(started.filter((s) => s !== netStop).map((s) => s.stop().catch(() => undefined)));
    await Promise.all(net.map((s) => s.stop().catch(() => undefined)));
  };
  let netStop: { stop(): Promise<void> } | null = null;
  let net: NetLab | null = null;
  try {
    if (opts.netns ?? true) {
      net = await createLab({ hosts: ['sfu'], ipv6: false });
      const n = net;
      netStop = { stop: () => n.destroy() };
      started.push(netStop);
    }
    const netns = net ? { lab: net, host: 'sfu' } : undefined;
    const [livekit, synapse] = await Promise.all([
      startLiveKit({ ...opts.livekit, netns }).then((l) => (started.unshift(l), l)),
      startSynapse({
        ...opts.synapse,
        msc4143: adv.msc4143,
        rtcTransports: adv.endpoint ? [transport] : undefined,
        extraWellKnownClient: adv.wellKnown ? { 'org.matrix.msc4143.rtc_foci': [transport] } : undefined,
        federationListener: !opts.noFederation,
      }).then((s) => (started.push(s), s)),
    ]);
    let standin: StandinLab | null = null;
    if (!opts.serviceDown) {
      standin = await startRtcAuthStandin({
        port: servicePort,
        livekitUrl: opts.sfuUrlOverride ?? livekit.wsUrl,
        key: livekit.apiKey,
        secret: opts.standinSecret ?? livekit.apiSecret.reveal(),
        fullAccessHomeservers: opts.fullAccessHomeservers,
        // Without the listener the lookup goes to the client port, which does not serve openid: as in a real deployment.
        federation: { [synapse.serverName]: synapse.federationUrl ?? synapse.url },
        legacy: opts.legacyService,
      });
      started.push(standin);
    }
    return { livekit, net, assumePublic: net ? [net.subnet.v4] : [], standin, synapse, serviceUrl, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * A web server in front of the homeserver that serves its /.well-known/matrix/client
 * without CORS headers (the "well-known without CORS" fault): everything else is
 * passed through. In-process, on a free loopback port.
 */
export async function startNoCorsFront(targetUrl: string): Promise<{ url: string; stop(): Promise<void> }> {
  const { createServer, request } = await import('node:http');
  const target = new URL(targetUrl);
  const server = createServer((req, res) => {
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      const headers = { ...r.headers };
      if ((req.url ?? '').startsWith('/.well-known/')) for (const h of Object.keys(headers)) if (h.startsWith('access-control-')) delete headers[h];
      res.writeHead(r.statusCode ?? 502, headers);
      r.pipe(res);
    });
    up.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(up);
  });
  const port = await findFreeTcpPort('127.0.0.1');
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
