// What both werift users (E2E-1's pair, the helper page's answering peer) need
// around an RTCPeerConnection: the relay-only configuration that names only the
// TURN server under test, the selected candidate pair, a bounded wait.
import type { RTCPeerConnection } from 'werift';
import type { Secret } from '../../tester/secret';
import type { Transport } from '../../tester/types';

/** One side of the selected ICE candidate pair. */
export interface CandidateInfo {
  type: string;
  protocol: string;
  address: string;
  port: number;
  /** TURN transport carrying a relay candidate (null for other types). */
  relayProtocol: Transport | null;
}

/** The TURN server a peer may use, and nothing else. */
export interface RelayServer {
  transport: Transport;
  /** IP literal. */
  address: string;
  port: number;
  /** SNI / certificate name for turns: (null for an IP literal). */
  servername: string | null;
  username: string;
  password: Secret;
  /** Extra trusted CAs (PEM) for turns:. */
  ca?: string[];
}

export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Relay-only configuration for one peer; the only ICE servers werift will know.
 * werift's default iceServers is a public STUN server: we always pass our own
 * list, and its stun: entry points at the server under test, never elsewhere.
 */
export function weriftConfig(input: RelayServer) {
  const scheme = input.transport === 'tls' ? 'turns' : 'turn';
  const urlTransport = input.transport === 'udp' ? 'udp' : 'tcp';
  return {
    iceServers: [
      { urls: `${scheme}:${hostPort(input.address, input.port)}?transport=${urlTransport}`, username: input.username, credential: input.password.reveal() },
      { urls: `stun:${hostPort(input.address, input.port)}` },
    ],
    iceTransportPolicy: 'relay' as const,
    turnTlsOptions:
      input.transport === 'tls'
        ? { ...(input.ca ? { ca: input.ca } : {}), ...(input.servername ? { servername: input.servername } : {}) }
        : undefined,
  };
}

export interface Selected {
  local: CandidateInfo;
  remote: CandidateInfo;
  iceRttMs: number | null;
}

// werift keeps the nominated pair on the ICE connection; its protocol tells
// which TURN transport carries the local relay candidate.
export function selected(pc: RTCPeerConnection): Selected | null {
  const conn = (pc as unknown as { iceTransports?: Array<{ connection?: any }> }).iceTransports?.[0]?.connection;
  const pair = conn?.nominated ?? conn?.candidatePairs?.find((p: any) => p.nominated);
  if (!pair) return null;
  const relayProtocol = (pair.protocol?.turn?.transport?.type ?? null) as Transport | null;
  return {
    local: candidateInfo(pair.localCandidate, relayProtocol),
    remote: candidateInfo(pair.remoteCandidate, null),
    iceRttMs: typeof pair.rtt === 'number' ? Math.round(pair.rtt * 1000 * 100) / 100 : null,
  };
}

function candidateInfo(c: any, relayProtocol: Transport | null): CandidateInfo {
  return {
    type: String(c?.type ?? 'unknown'),
    protocol: String(c?.transport ?? 'udp').toLowerCase(),
    address: String(c?.host ?? ''),
    port: Number(c?.port ?? 0),
    relayProtocol: c?.type === 'relay' ? relayProtocol : null,
  };
}

/** Wait for p at most ms (undefined after that, or when p rejects). */
export function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => {
    t = setTimeout(() => r(undefined), ms);
    t.unref();
  });
  return Promise.race([p.catch(() => undefined), timeout]).finally(() => clearTimeout(t));
}
