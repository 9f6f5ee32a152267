// The ports the bot's own deployment advertises (its homeserver's
// /voip/turnServer URIs and turn.uris): user-shared URIs may name them besides
// the standard TURN ports. Cached for ten minutes; a failed lookup is no ports.
import type { MatrixClient } from 'matrix-bot-sdk';
import { parseIceUri } from '../tester/uri';

const CACHE_MS = 10 * 60_000;

export function portsOf(uris: readonly unknown[]): number[] {
  const out = new Set<number>();
  for (const u of uris) {
    try {
      if (typeof u === 'string') out.add(parseIceUri(u).port);
    } catch {
      // not a URI: no port
    }
  }
  return [...out];
}

export function ownPorts(client: () => MatrixClient | null, configured: readonly string[]): () => Promise<number[]> {
  let cached: { at: number; ports: number[] } | null = null;
  return async () => {
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.ports;
    let advertised: unknown[] = [];
    try {
      const c = client();
      const res = c ? await c.doRequest('GET', '/_matrix/client/v3/voip/turnServer') as { uris?: unknown } : null;
      advertised = Array.isArray(res?.uris) ? res.uris.slice(0, 32) : [];
    } catch {
      advertised = [];
    }
    cached = { at: Date.now(), ports: portsOf([...configured, ...advertised]) };
    return cached.ports;
  };
}
