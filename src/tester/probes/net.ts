// NET-1 (port reachable), TLS-1 (certificate), TLS-2 (a web server owns 443)
// and STUN-1 (Binding): open the transport, then ask for our mapped address.
import { X509Certificate } from 'node:crypto';
import { TurnClient, TurnError, type BindingResult } from '../turn';
import type { Finding } from '../types';
import type { RunContext, TargetState } from './context';
import { finding } from './finding';

const EXPIRY_WARN_DAYS = 14;

/** Node/OpenSSL certificate error codes -> TLS-1 causes. */
const TLS_CAUSES: Record<string, string> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname-mismatch',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'incomplete-chain',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'incomplete-chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'incomplete-chain',
  CERT_UNTRUSTED: 'untrusted',
  CERT_REVOKED: 'untrusted',
};

const TLS_SUMMARIES: Record<string, string> = {
  expired: 'The TLS certificate has expired.',
  'not-yet-valid': 'The TLS certificate is not valid yet (check the server clock).',
  'hostname-mismatch': 'The TLS certificate is not issued for this host name.',
  untrusted: 'The TLS certificate is not signed by a trusted authority (self-signed?).',
  'incomplete-chain': 'The TLS certificate chain is incomplete: intermediate certificates are missing.',
  'handshake-failed': 'The TLS handshake failed.',
};

function netFailure(state: TargetState, e: TurnError): Finding {
  const { address } = state.target;
  const port = state.target.uri.port;
  const ev = { address, port, transport: state.target.uri.transport, error: e.kind, sysCode: e.sysCode ?? null };
  if (e.kind === 'refused') {
    return finding('NET-1', { ...state.scope, status: 'fail', severity: 'high', cause: 'refused', summary: `Nothing listens on ${address} port ${port}/${state.target.uri.transport} (connection refused).`, evidence: ev });
  }
  if (e.kind === 'unreachable') {
    return finding('NET-1', { ...state.scope, status: 'fail', severity: 'high', cause: 'unreachable', summary: `${address} cannot be reached from the tester (${e.sysCode ?? 'no route'}).`, evidence: ev });
  }
  return finding('NET-1', {
    ...state.scope,
    status: 'fail',
    severity: 'high',
    cause: 'filtered',
    summary: `No answer from ${address} port ${port}/${state.target.uri.transport}: packets are dropped (firewall) or the server is down.`,
    evidence: ev,
  });
}

function judgeTls(state: TargetState, client: TurnClient | null, e: TurnError | null): Finding {
  const info = client?.tls ?? e?.tls ?? null;
  const ev: Record<string, unknown> = { protocol: info?.protocol ?? null, servername: info?.servername ?? null };
  const leaf = info?.chain[0];
  if (leaf) Object.assign(ev, { subject: leaf.subject, subjectAltName: leaf.subjectAltName, notBefore: leaf.validFrom, notAfter: leaf.validTo, issuer: leaf.issuer });
  if (e) {
    const cause = TLS_CAUSES[e.tlsCode ?? info?.authorizationError ?? ''] ?? 'handshake-failed';
    return finding('TLS-1', { ...state.scope, status: 'fail', severity: 'high', cause, summary: TLS_SUMMARIES[cause], evidence: { ...ev, code: e.tlsCode ?? null } });
  }
  if (info?.protocol && /^(SSLv|TLSv1(\.1)?$)/.test(info.protocol)) {
    return finding('TLS-1', { ...state.scope, status: 'warn', severity: 'medium', cause: 'old-tls', summary: `The server negotiated ${info.protocol}; TLS 1.2 or newer is expected.`, evidence: ev });
  }
  if (leaf) {
    const notAfter = new X509Certificate(leaf.der).validTo;
    const days = (Date.parse(notAfter) - Date.now()) / 86400000;
    if (Number.isFinite(days) && days < EXPIRY_WARN_DAYS) {
      return finding('TLS-1', {
        ...state.scope,
        status: 'warn',
        severity: 'medium',
        cause: 'expiring-soon',
        summary: `The TLS certificate expires in ${Math.max(0, Math.floor(days))} day(s).`,
        evidence: { ...ev, daysLeft: Math.floor(days) },
      });
    }
  }
  return finding('TLS-1', { ...state.scope, status: 'pass', summary: `TLS ${info?.protocol ?? ''} with a valid certificate.`, evidence: ev });
}

/** Open the transport (NET-1, TLS-1). Returns null when a gate failed. */
export async function connect(ctx: RunContext, state: TargetState): Promise<TurnClient | null> {
  const { uri } = state.target;
  const t0 = performance.now();
  let client: TurnClient;
  try {
    client = await TurnClient.connect(ctx.clientOptions(state.target, true));
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    if (e.kind === 'tls') {
      state.gate(finding('NET-1', { ...state.scope, status: 'pass', summary: `TCP port ${uri.port} accepts connections.`, evidence: { address: state.target.address, port: uri.port } }));
      state.gate(judgeTls(state, null, e));
    } else {
      state.gate(netFailure(state, e));
    }
    return null;
  }
  const timings = client.timings;
  state.result.timingsMs.connect = timings.connectMs ?? Math.round(performance.now() - t0);
  if (timings.tlsMs !== null) state.result.timingsMs.tls = timings.tlsMs;
  if (uri.transport !== 'udp') {
    state.gate(finding('NET-1', { ...state.scope, status: 'pass', summary: `${uri.transport.toUpperCase()} port ${uri.port} accepts connections.`, evidence: { address: state.target.address, port: uri.port, connectMs: timings.connectMs } }));
  }
  if (uri.transport === 'tls') state.gate(judgeTls(state, client, null));
  return client;
}

/** STUN-1 (and NET-1 on UDP, TLS-2 on 443): a Binding request on the open transport. */
export async function binding(ctx: RunContext, state: TargetState, client: TurnClient): Promise<BindingResult | null> {
  const { uri } = state.target;
  try {
    const b = await client.binding({ timeoutMs: ctx.deadline.cap(uri.transport === 'udp' ? 1800 : 2500) });
    if (uri.transport === 'udp') {
      state.gate(finding('NET-1', { ...state.scope, status: 'pass', summary: `UDP port ${uri.port} answers.`, evidence: { address: state.target.address, port: uri.port, rttMs: round(b.rttMs) } }));
    }
    if (uri.transport === 'tls' && uri.port === 443) {
      state.gate(finding('TLS-2', { ...state.scope, status: 'pass', summary: 'TURN, not a web server, answers on port 443.', evidence: {} }));
    }
    if (b.software) ctx.software.set(`${state.target.address}:${uri.port}`, b.software);
    if (b.mapped) {
      if (!ctx.publicAddress[b.mapped.family]) ctx.publicAddress[b.mapped.family] = b.mapped.address;
      state.add(
        finding('STUN-1', {
          ...state.scope,
          status: 'pass',
          summary: `STUN answers: the tester is seen as ${fmt(b.mapped.address, b.mapped.port)}.`,
          evidence: { mapped: fmt(b.mapped.address, b.mapped.port), from: b.mappedFrom, rttMs: round(b.rttMs), transport: uri.transport },
        }),
      );
      if (uri.transport === 'udp') state.result.stunWorks = true;
    } else {
      state.add(finding('STUN-1', { ...state.scope, status: 'fail', severity: 'medium', cause: 'no-mapped-address', summary: 'The Binding answer carries no mapped address.', evidence: {} }));
    }
    return b;
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    return bindingFailure(state, e);
  }
}

function bindingFailure(state: TargetState, e: TurnError): null {
  const { uri } = state.target;
  if (e.kind === 'not-stun') {
    if (uri.transport === 'tls' && uri.port === 443) {
      state.gate(finding('TLS-2', { ...state.scope, status: 'fail', severity: 'high', cause: 'http-answer', summary: 'Something that is not TURN (a web server?) answers TLS on port 443.', evidence: { error: e.kind } }));
    } else {
      state.gate(
        finding('STUN-1', {
          ...state.scope,
          status: 'fail',
          severity: 'high',
          cause: 'not-stun',
          summary: `Something that does not speak STUN answers on ${state.target.address} port ${uri.port}.`,
          evidence: { error: e.kind },
        }),
      );
    }
    return null;
  }
  if (e.kind === 'error-response' && e.code === 401) {
    // secure-stun: Binding needs credentials; browsers' STUN then fails.
    if (uri.transport === 'udp') state.gate(finding('NET-1', { ...state.scope, status: 'pass', summary: `UDP port ${uri.port} answers.`, evidence: {} }));
    state.add(finding('STUN-1', { ...state.scope, status: 'fail', severity: 'medium', cause: 'auth-required', summary: 'The server answers Binding with 401: STUN needs credentials here (coturn `secure-stun`).', evidence: { code: 401 } }));
    return null;
  }
  if (e.kind === 'error-response') {
    state.add(finding('STUN-1', { ...state.scope, status: 'fail', severity: 'medium', cause: 'error', summary: `The server answers Binding with error ${e.code}.`, evidence: { code: e.code ?? null } }));
    return null;
  }
  // UDP: no connect step, so silence or ICMP here is the NET-1 verdict.
  if (uri.transport === 'udp') state.gate(netFailure(state, e));
  else state.gate(finding('STUN-1', { ...state.scope, status: 'fail', severity: 'high', cause: 'no-answer', summary: `No answer to a STUN Binding over ${uri.transport.toUpperCase()} (${e.kind}).`, evidence: { error: e.kind } }));
  return null;
}

export function fmt(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
