// The identity of "the same target" across runs: a homeserver, or a sorted URI set.
import type { CredentialSpec } from '../tester/credentials/types';

export function targetKey(spec: CredentialSpec): string {
  switch (spec.kind) {
    case 'xmpp': return `xmpp:${spec.jid.slice(spec.jid.indexOf('@') + 1).split('/')[0].toLowerCase()}`;
    case 'homeserver': return `hs:${spec.homeserver.replace(/\/+$/, '').toLowerCase()}`;
    case 'secret':
    case 'explicit': return `uris:${[...new Set(spec.uris)].sort().join(' ')}`;
    case 'shared': return spec.credentials.source.homeserver
      ? `hs:${spec.credentials.source.homeserver.replace(/\/+$/, '').toLowerCase()}`
      : `uris:${[...new Set(spec.credentials.uris)].sort().join(' ')}`;
  }
}

/** The same identity, from a report (a browser helper run has no spec here, only its report). */
export function reportTargetKey(report: { source: { homeserver?: string; xmpp?: string }; uris: { uri: string }[] }): string {
  if (report.source.xmpp) return `xmpp:${report.source.xmpp.toLowerCase()}`;
  return report.source.homeserver
    ? `hs:${report.source.homeserver.replace(/\/+$/, '').toLowerCase()}`
    : `uris:${[...new Set(report.uris.map((u) => u.uri))].sort().join(' ')}`;
}
