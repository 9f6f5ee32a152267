// TLS-1 (certificate problems) and TLS-2 (a web server owns 443): judged from
// the target's TLS connection and, on 443, from what answers the Binding.
import { X509Certificate } from 'node:crypto';
import type { TurnClient, TurnError } from '../turn';
import { defineCheck } from './check';
import type { TargetState } from './context';
import { finding } from './finding';
import { bindingOf, connection } from './reachability';

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

function judgeTls(state: TargetState, client: TurnClient | null, e: TurnError | null) {
  const info = client?.tls ?? e?.tls ?? null;
  const ev: Record<string, unknown> = { protocol: info?.protocol ?? null, servername: info?.servername ?? null };
  const leaf = info?.chain[0];
  if (leaf) Object.assign(ev, { subject: leaf.subject, subjectAltName: leaf.subjectAltName, notBefore: leaf.validFrom, notAfter: leaf.validTo, issuer: leaf.issuer });
  if (e) {
    const cause = TLS_CAUSES[e.tlsCode ?? info?.authorizationError ?? ''] ?? 'handshake-failed';
    return finding('TLS-1', { ...state.scope, status: 'fail', severity: 'high', cause, summary: TLS_SUMMARIES[cause]!, evidence: { ...ev, code: e.tlsCode ?? null } });
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

export const TLS_1 = defineCheck({
  id: 'TLS-1',
  scope: 'uri-family',
  needs: ['NET-1'],
  causes: Object.values(TLS_CAUSES),
  applies: (s) => s.target.uri.transport === 'tls',
  run: async (s) => {
    const c = await connection(s);
    if (c.error && c.error.kind !== 'tls') return null;
    return judgeTls(s, c.client ?? null, c.error ?? null);
  },
});

export const TLS_2 = defineCheck({
  id: 'TLS-2',
  scope: 'uri-family',
  needs: ['TLS-1'],
  applies: (s) => s.target.uri.transport === 'tls' && s.target.uri.port === 443,
  run: async (s) => {
    const b = await bindingOf(s);
    if (b.ok) return finding('TLS-2', { ...s.scope, status: 'pass', summary: 'TURN, not a web server, answers on port 443.', evidence: {} });
    if (b.error.kind === 'not-stun') {
      return finding('TLS-2', { ...s.scope, status: 'fail', severity: 'high', cause: 'http-answer', summary: 'Something that is not TURN (a web server?) answers TLS on port 443.', evidence: { error: b.error.kind } });
    }
    return null;
  },
});
