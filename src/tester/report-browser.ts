// The report model's browser section: what the helper page measured from the
// user's own network. Types only and no imports, so the helper page (its own
// DOM-only tsconfig) shares them as its wire types; web parses into them,
// render shows them.

export interface CandidateCounts {
  host: number;
  srflx: number;
  relay: number;
}

export interface BrowserIceError {
  /** icecandidateerror errorCode (STUN/TURN code, or 701 for "no answer"). */
  code: number;
  url: string;
  text: string;
  policy: 'all' | 'relay';
}

export interface PairEnd {
  type: string;
  protocol: string;
  /** Only for relay candidates: the TURN transport (udp, tcp, tls). */
  relayProtocol: string | null;
}

export interface BrowserDataChannel {
  ok: boolean;
  /** Median greeting round trip through both relays. */
  rttMs: number | null;
  /** Offer -> channel open, as the page saw it. */
  connectMs: number | null;
  selectedPair: { local: PairEnd; remote: PairEnd } | null;
  /** Why it did not open (page's words, cleaned). */
  error: string | null;
}

/** What our answering peer saw for the same URI (measured by the bot, not claimed by the page). */
export interface PeerSide {
  connected: boolean;
  turnTransport: string | null;
  connectMs: number | null;
  endReason: string;
}

/** One URI as the page posts it (the wire type) ... */
export interface BrowserUriPosted {
  uri: string;
  /** Candidates gathered with iceTransportPolicy 'all'. */
  candidates: CandidateCounts;
  /** Relay candidates gathered with iceTransportPolicy 'relay' (null for stun: URIs). */
  relayOnly: number | null;
  errors: BrowserIceError[];
  /** Relay-only data channel to the bot's answering peer (null for stun: URIs). */
  dataChannel: BrowserDataChannel | null;
}

/** ... and as the report holds it, with what our peer saw. */
export interface BrowserUriResult extends BrowserUriPosted {
  peer?: PeerSide;
}

export interface BrowserResults {
  userAgent: string;
  perUri: BrowserUriResult[];
}
