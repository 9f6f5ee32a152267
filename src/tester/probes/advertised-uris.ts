// ADV-1: lint the advertised URI set before anything is sent. Unparsable URIs
// become a finding for that URI (never a crash); the rest are planned.
import { parseIceUri, redactUserinfo } from '../uri';
import type { Finding, IceUri } from '../types';
import { defineCheck } from './check';
import { finding } from './finding';

export interface LintResult {
  uris: IceUri[];
  findings: Finding[];
}

export function lintUris(raws: string[]): LintResult {
  const findings: Finding[] = [];
  const uris: IceUri[] = [];
  const seen = new Set<string>();
  for (const raw of raws) {
    let uri: IceUri;
    try {
      uri = parseIceUri(raw);
    } catch (e) {
      const shown = redactUserinfo(raw.slice(0, 200));
      findings.push(
        finding('ADV-1', {
          status: 'fail',
          severity: 'medium',
          cause: 'unparsable',
          uri: shown,
          summary: `Cannot parse this URI: ${(e as Error).message}`,
          evidence: { uri: shown },
        }),
      );
      continue;
    }
    const key = `${uri.scheme}:${uri.host}:${uri.port}:${uri.transport}`;
    if (seen.has(key)) {
      findings.push(finding('ADV-1', { status: 'warn', severity: 'low', cause: 'duplicate', uri: uri.raw, summary: `${uri.raw} is listed twice.`, evidence: { uri: uri.raw } }));
      continue;
    }
    seen.add(key);
    if (uri.scheme === 'turns' && /[?&]transport=udp\b/i.test(uri.raw)) {
      findings.push(
        finding('ADV-1', {
          status: 'warn',
          severity: 'medium',
          cause: 'turns-udp',
          uri: uri.raw,
          summary: `${uri.raw} asks for TLS over UDP (DTLS), which browsers do not support.`,
          evidence: { uri: uri.raw },
        }),
      );
      continue;
    }
    if (uri.scheme === 'turns' && uri.ipLiteral !== 0) {
      findings.push(
        finding('ADV-1', {
          status: 'warn',
          severity: 'medium',
          cause: 'turns-ip-literal',
          uri: uri.raw,
          summary: `${uri.raw} points TLS at an IP address: the certificate cannot match a host name there.`,
          evidence: { uri: uri.raw },
        }),
      );
    }
    uris.push(uri);
  }
  const turn = uris.filter((u) => u.scheme !== 'stun');
  if (turn.length > 0 && !turn.some((u) => u.scheme === 'turn' && u.transport === 'udp')) {
    findings.push(
      finding('ADV-1', { status: 'warn', severity: 'medium', cause: 'no-udp-turn', summary: 'No TURN over UDP is advertised: media over TCP/TLS relays suffers on lossy paths.', evidence: { uris: turn.map((u) => u.raw) } }),
    );
  }
  if (turn.length > 0 && !turn.some((u) => u.transport === 'tcp' || u.transport === 'tls')) {
    findings.push(
      finding('ADV-1', {
        status: 'warn',
        severity: 'medium',
        cause: 'no-stream-fallback',
        summary: 'No TURN over TCP or TLS is advertised: clients behind firewalls that block UDP cannot connect.',
        evidence: { uris: turn.map((u) => u.raw) },
      }),
    );
  }
  if (turn.length === 0 && uris.length > 0) {
    findings.push(finding('ADV-1', { status: 'warn', severity: 'high', cause: 'no-turn', summary: 'Only STUN URIs are advertised: calls between users behind NAT need TURN.', evidence: {} }));
  }
  if (!findings.some((f) => f.id === 'ADV-1')) {
    findings.push(finding('ADV-1', { status: 'pass', summary: `${uris.length} URI(s) advertised, with UDP and TCP/TLS TURN.`, evidence: { uris: uris.map((u) => u.raw) } }));
  }
  return { uris, findings };
}

export const ADV_1 = defineCheck({
  id: 'ADV-1',
  scope: 'run',
  run: async (run) => run.lint.findings,
});
