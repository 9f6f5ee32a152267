// E2E-1: a real WebRTC connection through the TURN server under test.
// Two ICE agents in this process, both relay-only, open a data channel over
// the URI's own transport and exchange a greeting. The finding records the
// selected candidate pair and the TURN transport actually used.
import { isIP } from 'node:net';
import type { Secret } from '../secret';
import type { Family, Finding, IceUri, Severity, Status } from '../types';
import { hintFor } from '../hints';
import { defineCheck } from './check';
import { runNdcPair, ndcSupports } from './e2e/ndc-pair';
import type { E2ECause, PairInput, PairOutcome } from './e2e/outcome';
import { runWeriftPair, weriftSupports } from './e2e/werift-pair';

export type E2EEngine = 'werift' | 'node-datachannel';

export interface E2EInput {
  uri: IceUri;
  family: Family;
  /** Resolved address (IP literal) of uri.host in this family; we never re-resolve. */
  address: string;
  username: string;
  password: Secret;
  /** Extra trusted CAs (PEM) for turns:. */
  ca?: string[];
  timeoutMs?: number;
  engine?: E2EEngine | 'auto';
}

export const E2E_DEFAULT_TIMEOUT_MS = 8000;
const MAX_TIMEOUT_MS = 60000;

export async function runE2E(input: E2EInput): Promise<Finding> {
  const base = { id: 'E2E-1' as const, uri: input.uri?.raw ?? null, family: input.family ?? null };
  const bad = validate(input);
  if (bad) return finding(base, 'skip', 'bad-input', `E2E test not run: ${bad}.`, { reason: bad });

  const { uri } = input;
  const engine = pickEngine(input.engine ?? 'auto', uri.transport, input.address);
  if (!engine) {
    const reason = `no WebRTC engine here relays ${uri.transport.toUpperCase()} TURN over ${input.family === 'ipv6' ? 'IPv6' : 'IPv4'}${
      input.engine && input.engine !== 'auto' ? ` with ${input.engine}` : ''
    }`;
    return finding(base, 'skip', 'unsupported', `E2E test not run: ${reason}.`, { engine: input.engine ?? 'auto', reason });
  }

  const pairInput: PairInput = {
    transport: uri.transport,
    address: input.address,
    port: uri.port,
    servername: uri.ipLiteral === 0 ? uri.host : null,
    username: input.username,
    password: input.password,
    ca: input.ca,
    deadlineMs: Math.min(Math.max(input.timeoutMs ?? E2E_DEFAULT_TIMEOUT_MS, 500), MAX_TIMEOUT_MS),
  };
  let outcome: PairOutcome;
  try {
    outcome = engine === 'werift' ? await runWeriftPair(pairInput) : await runNdcPair(pairInput);
  } catch (err) {
    outcome = { ok: false, cause: 'engine-error', elapsedMs: 0, detail: { error: (err as Error)?.name ?? 'Error' } };
  }
  return toFinding(base, engine, uri.transport, outcome);
}

function validate(input: E2EInput): string | null {
  const { uri } = input;
  if (!uri || typeof uri !== 'object') return 'no URI';
  if (uri.scheme === 'stun') return 'a stun: URI has no relay';
  if (!['udp', 'tcp', 'tls'].includes(uri.transport)) return 'unknown transport';
  if (!Number.isInteger(uri.port) || uri.port < 1 || uri.port > 65535) return 'invalid port';
  const v = isIP(input.address ?? '');
  if (v === 0) return 'the address is not an IP literal';
  if ((v === 6) !== (input.family === 'ipv6')) return 'the address does not belong to the family';
  // Empty credentials would also make werift gather host/srflx candidates (and talk STUN): refuse.
  if (!input.username) return 'no TURN username';
  if (!input.password || input.password.empty) return 'no TURN password';
  return null;
}

function pickEngine(wanted: E2EEngine | 'auto', transport: IceUri['transport'], address: string): E2EEngine | null {
  if (wanted === 'werift') return weriftSupports(transport, address) ? 'werift' : null;
  if (wanted === 'node-datachannel') return ndcSupports(transport, address) ? 'node-datachannel' : null;
  // werift enforces relay-only honestly (no host sockets at all); node-datachannel fills the UDP/IPv6 gap.
  if (weriftSupports(transport, address)) return 'werift';
  if (ndcSupports(transport, address)) return 'node-datachannel';
  return null;
}

type Base = Pick<Finding, 'id' | 'uri' | 'family'>;

const SEVERITY: Record<E2ECause, Severity | null> = {
  'no-relay-candidate': 'high',
  'ice-failed': 'high',
  timeout: 'high',
  'no-echo': 'high',
  'wrong-transport': 'medium',
  'not-relayed': 'low',
  unsupported: null,
  'bad-input': null,
  'engine-error': null,
};

function toFinding(base: Base, engine: E2EEngine, transport: IceUri['transport'], o: PairOutcome): Finding {
  const T = transport.toUpperCase();
  if (o.ok) {
    const evidence = {
      engine,
      selectedPair: { local: o.local, remote: o.remote },
      turnTransport: o.turnTransport,
      connectMs: o.connectMs,
      rttMs: o.rttMs,
      ...o.detail,
    };
    if (o.local.type !== 'relay' || o.remote.type !== 'relay') {
      return finding(base, 'warn', 'not-relayed',
        `A data channel opened, but over a ${o.local.type}-${o.remote.type} pair, so it proves nothing about the relay.`, evidence);
    }
    if (o.turnTransport !== transport) {
      return finding(base, 'fail', 'wrong-transport',
        `A data channel opened, but the TURN leg ran over ${String(o.turnTransport).toUpperCase()}, not ${T}.`, evidence);
    }
    return finding(base, 'pass', undefined,
      `WebRTC data channel through the relay over ${T}: open in ${o.connectMs} ms, echo in ${o.rttMs} ms.`, evidence);
  }
  const evidence = { engine, turnTransport: o.turnTransport ?? null, elapsedMs: o.elapsedMs, ...o.detail };
  if (o.cause === 'engine-error' || o.cause === 'unsupported' || o.cause === 'bad-input') {
    return finding(base, 'skip', o.cause, `E2E test could not run (${engine}: ${o.cause}).`, evidence);
  }
  return finding(base, 'fail', o.cause, failSummary(o.cause, T, o), evidence);
}

function failSummary(cause: E2ECause, T: string, o: Extract<PairOutcome, { ok: false }>): string {
  const alloc = o.detail.allocation as { kind?: string; errorCode?: number; socketError?: string } | undefined;
  switch (cause) {
    case 'no-relay-candidate': {
      const why = alloc?.errorCode
        ? `the server answered ${alloc.errorCode}`
        : alloc?.kind === 'timeout'
          ? 'the server did not answer'
          : alloc?.socketError
            ? `the connection failed (${alloc.socketError})`
            : 'no allocation';
      return `No relay candidate over ${T}: ${why}.`;
    }
    case 'ice-failed':
      return `Relay candidates were found over ${T}, but ICE connectivity checks between them failed.`;
    case 'timeout':
      return `No data channel through the relay over ${T} within ${o.elapsedMs} ms.`;
    case 'wrong-transport':
      return `The WebRTC engine fell back to another TURN transport than ${T}.`;
    case 'no-echo':
      return `The data channel opened over ${T}, but the greeting did not come back intact.`;
    default:
      return `E2E over ${T} failed (${cause}).`;
  }
}

function finding(base: Base, status: Status, cause: E2ECause | undefined, summary: string, evidence: Record<string, unknown>): Finding {
  const severity = status === 'fail' || status === 'warn' ? (cause ? SEVERITY[cause] : null) ?? 'medium' : null;
  return {
    ...base,
    status,
    severity,
    summary,
    evidence,
    ...(cause ? { cause } : {}),
    hint: status === 'fail' || status === 'warn' ? hintFor('E2E-1', cause, evidence) : null,
  };
}

/** A refusal of the WebRTC stack's allocations that our own quota explains (see ALLOC-4), not the relay. */
function refusedForQuota(f: Finding): boolean {
  const code = (f.evidence.allocation as { errorCode?: number } | undefined)?.errorCode;
  return f.status === 'fail' && (code === 486 || code === 508);
}

export const E2E_1 = defineCheck({
  id: 'E2E-1',
  scope: 'uri-family',
  needs: ['DATA-1'],
  // Two ICE agents, one allocation each.
  allocations: 2,
  causes: Object.keys(SEVERITY).filter((c) => SEVERITY[c as E2ECause] !== null),
  applies: (s) => s.isTurn && s.ctx.options.e2e,
  run: async (s) => {
    const { ctx, target } = s;
    const base = { ...s.scope };
    if (ctx.allocations.size < 2) {
      return { ...base, id: 'E2E-1', status: 'skip', severity: null, summary: 'Not run: the server allows this user only one allocation at a time (see ALLOC-4), and a WebRTC call through it needs two.', evidence: { reason: 'quota' }, hint: null };
    }
    const f = await runE2E({ uri: target.uri, family: target.family, address: target.address, username: ctx.creds.username, password: ctx.creds.password, ca: ctx.options.ca, timeoutMs: ctx.deadline.cap(8000) });
    if (refusedForQuota(f)) return { ...f, status: 'skip', severity: null, cause: undefined, hint: null, summary: `Not judged: the server refused the WebRTC allocations for this user's quota or relay ports (see ALLOC-4).`, evidence: { ...f.evidence, reason: 'quota' } };
    return f;
  },
});
