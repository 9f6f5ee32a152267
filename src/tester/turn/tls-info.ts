// What a TLS handshake showed, flattened (Node's peer certificate objects are
// circular for self-signed chains), for TLS-1 evidence.
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

export interface CertSummary {
  subject: Record<string, string | string[]>;
  issuer: Record<string, string | string[]>;
  subjectAltName: string | null;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  serialNumber: string;
  /** DER bytes, for `new X509Certificate(der)` when a probe needs more. */
  der: Buffer;
}

export interface TlsInfo {
  /** e.g. 'TLSv1.3' */
  protocol: string | null;
  cipher: string | null;
  /** Chain verified and hostname matched (against our CA list + system roots). */
  authorized: boolean;
  /** Node's code when not authorized (e.g. 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID'). */
  authorizationError: string | null;
  /** The SNI we sent (null for IP literals, which SNI cannot carry). */
  servername: string | null;
  /** Leaf first, as the server presented it (plus what Node linked up). */
  chain: CertSummary[];
}

function summary(c: DetailedPeerCertificate): CertSummary {
  return {
    subject: { ...(c.subject as unknown as Record<string, string>) },
    issuer: { ...(c.issuer as unknown as Record<string, string>) },
    subjectAltName: c.subjectaltname ?? null,
    validFrom: c.valid_from,
    validTo: c.valid_to,
    fingerprint256: c.fingerprint256,
    serialNumber: c.serialNumber,
    der: c.raw,
  };
}

export function tlsInfoOf(sock: TLSSocket, servername: string | null): TlsInfo {
  const chain: CertSummary[] = [];
  try {
    let c: DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
    const seen = new Set<string>();
    while (c && c.raw && !seen.has(c.fingerprint256) && chain.length < 10) {
      seen.add(c.fingerprint256);
      chain.push(summary(c));
      c = c.issuerCertificate;
    }
  } catch {
    // no certificate (handshake did not get that far)
  }
  const err = sock.authorizationError as unknown as Error | string | null | undefined;
  return {
    protocol: sock.getProtocol() ?? null,
    cipher: sock.getCipher()?.name ?? null,
    authorized: sock.authorized,
    authorizationError: err ? (typeof err === 'string' ? err : ((err as NodeJS.ErrnoException).code ?? err.message)) : null,
    servername,
    chain,
  };
}
