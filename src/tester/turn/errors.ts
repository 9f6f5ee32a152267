// Every TURN/STUN client failure is a TurnError with a machine-readable kind.
// Never parse `message`: it is for humans. Reason phrases from the server are
// untrusted (and absent on coturn >= 4.10); they are kept only as evidence.
import type { StunMessage } from '../stun/message';
import type { TlsInfo } from './tls-info';

export type TurnErrorKind =
  | 'error-response' // the server answered with an error class response (see code, method)
  | 'timeout' // no answer before the deadline (connect or request)
  | 'refused' // TCP RST, or ICMP port unreachable on UDP: nothing listens there
  | 'unreachable' // no route, address not available, name does not resolve
  | 'tls' // TLS handshake or certificate failure (see tlsCode)
  | 'closed' // the client or the peer closed the connection
  | 'not-stun' // the other side answered, but not with STUN (e.g. an HTTP server)
  | 'protocol'; // a STUN answer that makes no sense (missing attributes, wrong method)

export type TurnPhase = 'connect' | 'tls' | 'request';

export interface TurnErrorDetails {
  code?: number;
  method?: string;
  tlsCode?: string;
  sysCode?: string;
  reason?: string;
  phase?: TurnPhase;
  response?: StunMessage;
  tls?: TlsInfo;
}

export class TurnError extends Error {
  override readonly name = 'TurnError';
  /** STUN error code (class*100+number) for 'error-response'. */
  readonly code?: number;
  /** The STUN method whose request failed (e.g. 'Allocate'). */
  readonly method?: string;
  /** Node/OpenSSL error code for 'tls' (e.g. 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'). */
  readonly tlsCode?: string;
  /** errno code of a socket failure (e.g. 'ECONNREFUSED'). */
  readonly sysCode?: string;
  /** Untrusted reason phrase from ERROR-CODE, evidence only. */
  readonly reason?: string;
  readonly phase?: TurnPhase;
  /** The error response itself (REALM, NONCE, ALTERNATE-SERVER, SOFTWARE... for evidence). */
  readonly response?: StunMessage;
  /** What the TLS handshake showed (certificate chain, protocol), when it got that far. */
  readonly tls?: TlsInfo;

  constructor(
    readonly kind: TurnErrorKind,
    message: string,
    details: TurnErrorDetails = {},
  ) {
    super(message);
    Object.assign(this, details);
  }
}

const SYS_KIND: Record<string, TurnErrorKind> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timeout',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ENETDOWN: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  EAFNOSUPPORT: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  EAI_NONAME: 'unreachable',
  ECONNRESET: 'closed',
  EPIPE: 'closed',
  ECONNABORTED: 'closed',
};

/** Map a socket error to a TurnError; TLS-layer codes become 'tls'. */
export function fromSocketError(err: unknown, phase: TurnPhase, tls?: TlsInfo): TurnError {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  if (code && SYS_KIND[code] && !(phase === 'tls' && code === 'ECONNRESET')) {
    return new TurnError(SYS_KIND[code], `${phase}: ${msg}`, { sysCode: code, phase, tls });
  }
  if (phase === 'tls' || (code && /^(ERR_SSL|ERR_TLS|CERT_|DEPTH_|UNABLE_TO|SELF_SIGNED|HOSTNAME)/.test(code))) {
    return new TurnError('tls', `tls: ${msg}`, { tlsCode: code ?? 'TLS_ERROR', phase: 'tls', tls });
  }
  return new TurnError('closed', `${phase}: ${msg}`, { sysCode: code, phase, tls });
}
