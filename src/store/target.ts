// The identity of "the same target" across runs: a homeserver, or a sorted URI set.
import { displayUris } from '../ops/defang';
import type { CredentialSpec } from '../tester/credentials/types';

export function targetKey(spec: CredentialSpec): string {
  switch (spec.kind) {
    case 'xmpp': return `xmpp:${spec.jid.slice(spec.jid.indexOf('@') + 1).split('/')[0].toLowerCase()}`;
    case 'homeserver': return `hs:${spec.homeserver.replace(/\/+$/, '').toLowerCase()}`;
    case 'secret':
    case 'explicit': return `uris:${[...new Set(spec.uris)].sort().join(' ')}`;
    // A user's word for their homeserver is not its identity: shared URIs are keyed by the URIs.
    case 'shared': return `uris:${[...new Set(spec.credentials.uris)].sort().join(' ')}`;
  }
}

/** The same identity, from a report (a browser helper run has no spec here, only its report). */
export function reportTargetKey(report: { source: { homeserver?: string; xmpp?: string }; uris: { uri: string }[] }): string {
  if (report.source.xmpp) return `xmpp:${report.source.xmpp.toLowerCase()}`;
  return report.source.homeserver
    ? `hs:${report.source.homeserver.replace(/\/+$/, '').toLowerCase()}`
    : `uris:${[...new Set(report.uris.map((u) => u.uri))].sort().join(' ')}`;
}

/**
 * A run on URIs a user shared (browser helper): keyed by who shared them and
 * the URIs, so it never continues (or resets) the history of a homeserver.
 */
export function sharedTargetKey(userId: string, uris: readonly string[]): string {
  // Shown in "history": no credentials or query parameters from the user's URIs.
  return `shared:${userId} ${[...new Set(uris.map(displayUris))].sort().join(' ')}`.trim();
}
