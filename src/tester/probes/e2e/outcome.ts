// What an engine (werift, node-datachannel) reports after trying to open a
// data channel between two relay-only peers. Engine-neutral: e2e.ts turns it
// into the E2E-1 finding.
import type { Transport } from '../../types';

export type E2ECause =
  | 'no-relay-candidate' // the TURN allocation failed (credentials, port, TLS)
  | 'ice-failed' // candidates existed but connectivity checks failed
  | 'timeout' // the deadline passed first
  | 'wrong-transport' // the engine used another TURN transport than the URI's
  | 'not-relayed' // connected, but the selected pair is not relay-relay
  | 'no-echo' // the channel opened, the greeting did not come back intact
  | 'unsupported' // this engine cannot test this (transport, family)
  | 'bad-input'
  | 'engine-error';

import type { CandidateInfo, RelayServer } from '../../../webrtc/werift';
export type { CandidateInfo };

export interface PairSuccess {
  ok: true;
  connectMs: number;
  /** Greeting -> echo round trip over the data channel. */
  rttMs: number;
  local: CandidateInfo;
  remote: CandidateInfo;
  turnTransport: Transport | null;
  /** Extra engine facts (ICE RTT, allocations seen). */
  detail: Record<string, unknown>;
}

export interface PairFailure {
  ok: false;
  cause: E2ECause;
  elapsedMs: number;
  turnTransport?: Transport | null;
  detail: Record<string, unknown>;
}

export type PairOutcome = PairSuccess | PairFailure;

/** What each engine needs; the password is revealed only inside the engine, at the wire. */
export interface PairInput extends RelayServer {
  deadlineMs: number;
}

export const GREETING_PREFIX = 'mx-voiptest e2e ';

/** Bracket IPv6 literals for URLs. */
export { hostPort } from '../../../webrtc/werift';
