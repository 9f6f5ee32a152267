// NET-1 (port reachable): open the transport, and on UDP ask the port what it
// answers. A network verdict ("dropped by a firewall", "nothing listens") is
// given only when every kind of request sent there went unanswered: a UDP port
// that ignores Binding but answers Allocate is reachable. Also the requests the
// target's later checks share (one connection, one Binding, one Allocate
// without credentials), made once per target.
import { TurnClient, TurnError, type AllocateResult, type BindingResult } from '../turn';
import type { Finding } from '../types';
import { defineCheck } from './check';
import type { Connection, TargetState } from './context';
import { finding, round } from './finding';

/** A silent UDP port gets a second kind of request, with less patience (a live server answers it fast). */
const FALLBACK_TIMEOUT_MS = 1000;

export type Outcome<T> = { ok: T; error?: undefined } | { ok?: undefined; error: TurnError };

async function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await p };
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    return { error: e };
  }
}

/** The target's connection (NET-1, TLS-1 judge it; later checks use the client). */
export function connection(s: TargetState): Promise<Connection> {
  return s.memo('connect', async () => {
    const t0 = performance.now();
    const c = await outcome(TurnClient.connect(s.ctx.clientOptions(s.target, true)));
    if (c.error) return { error: c.error };
    const timings = c.ok.timings;
    s.result.timingsMs.connect = timings.connectMs ?? Math.round(performance.now() - t0);
    if (timings.tlsMs !== null) s.result.timingsMs.tls = timings.tlsMs;
    s.setClient(c.ok);
    return { client: c.ok };
  });
}

/** The one Binding of the target (STUN-1, TLS-2, STUN-2 and NET-1 on UDP judge it). */
export function bindingOf(s: TargetState): Promise<Outcome<BindingResult>> {
  return s.memo('binding', async () => {
    const { client } = await connection(s);
    if (!client) throw new Error('Binding without a connection');
    const b = await outcome(client.binding({ timeoutMs: s.ctx.deadline.cap(s.target.uri.transport === 'udp' ? 1800 : 2500) }));
    if (b.ok) s.ctx.learn(s.target, { software: b.ok.software, mapped: b.ok.mapped });
    return b;
  });
}

/**
 * The one Allocate without credentials (AUTH-1 judges it; NET-1 asks it when
 * Binding went unanswered). When it succeeds (an open relay) the 5-tuple holds
 * an allocation, so later checks continue on a fresh connection.
 */
export function unauthenticatedAllocate(s: TargetState, timeoutMs?: number): Promise<Outcome<AllocateResult>> {
  return s.memo('unauth-allocate', async () => {
    const { client } = await connection(s);
    if (!client) throw new Error('Allocate without a connection');
    const a = await outcome(client.allocate({ withCredentials: false, ...(timeoutMs ? { timeoutMs } : {}) }));
    if (a.ok) {
      await client.close();
      s.setClient(await TurnClient.connect(s.ctx.clientOptions(s.target, true)));
    }
    return a;
  });
}

/** Any answer at all (even an error or garbage) shows something listens. */
const answered = (e: TurnError | undefined) => !e || e.kind === 'error-response' || e.kind === 'not-stun' || e.kind === 'protocol';

function netFailure(s: TargetState, e: TurnError, asked: string[]): Finding {
  const { address } = s.target;
  const { port, transport } = s.target.uri;
  const ev = { address, port, transport, error: e.kind, sysCode: e.sysCode ?? null, asked };
  if (e.kind === 'refused') {
    return finding('NET-1', { ...s.scope, status: 'fail', severity: 'high', cause: 'refused', summary: `Nothing listens on ${address} port ${port}/${transport} (connection refused).`, evidence: ev });
  }
  if (e.kind === 'unreachable') {
    return finding('NET-1', { ...s.scope, status: 'fail', severity: 'high', cause: 'unreachable', summary: `${address} cannot be reached from the tester (${e.sysCode ?? 'no route'}).`, evidence: ev });
  }
  const what = asked.length > 1 ? `No answer from ${address} port ${port}/${transport} to any request (${asked.join(', ')})` : `No answer from ${address} port ${port}/${transport}`;
  return finding('NET-1', { ...s.scope, status: 'fail', severity: 'high', cause: 'filtered', summary: `${what}: packets are dropped (firewall) or the server is down.`, evidence: ev });
}

async function judgeReachability(s: TargetState): Promise<Finding> {
  const { address } = s.target;
  const { port, transport } = s.target.uri;
  const conn = await connection(s);
  if (conn.error) {
    // A TLS failure means TCP connected: TLS-1 judges the rest.
    if (conn.error.kind === 'tls') return finding('NET-1', { ...s.scope, status: 'pass', summary: `TCP port ${port} accepts connections.`, evidence: { address, port } });
    return netFailure(s, conn.error, ['connect']);
  }
  if (transport !== 'udp') {
    return finding('NET-1', { ...s.scope, status: 'pass', summary: `${transport.toUpperCase()} port ${port} accepts connections.`, evidence: { address, port, connectMs: conn.client.timings.connectMs } });
  }
  // UDP has no handshake: the port is judged by what it answers.
  const b = await bindingOf(s);
  if (answered(b.error)) return finding('NET-1', { ...s.scope, status: 'pass', summary: `UDP port ${port} answers.`, evidence: { address, port, ...(b.ok ? { rttMs: round(b.ok.rttMs) } : { answer: b.error!.kind }) } });
  if (b.error!.kind !== 'timeout') return netFailure(s, b.error!, ['Binding']);
  const a = await unauthenticatedAllocate(s, s.ctx.deadline.cap(FALLBACK_TIMEOUT_MS));
  if (answered(a.error)) {
    return finding('NET-1', { ...s.scope, status: 'pass', summary: `UDP port ${port} answers Allocate (but not Binding).`, evidence: { address, port, answered: ['Allocate'], unanswered: ['Binding'] } });
  }
  return netFailure(s, a.error!.kind === 'timeout' ? b.error! : a.error!, ['Binding', 'Allocate']);
}

export const NET_1 = defineCheck({
  id: 'NET-1',
  scope: 'uri-family',
  run: judgeReachability,
});
