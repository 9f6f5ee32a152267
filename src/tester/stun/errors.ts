// The one error the STUN codec throws. Callers (and the fuzz test) rely on
// "StunParseError or success, nothing else" for any input bytes.

export type StunParseReason =
  | 'truncated' // fewer bytes than the header or a length field says
  | 'not-stun' // first bits or shape say this is not STUN at all
  | 'bad-cookie' // magic cookie missing (RFC 3489 or garbage)
  | 'bad-length' // length not a multiple of 4, or disagreeing with the datagram
  | 'attribute-overrun' // an attribute runs past the end of the message
  | 'oversized' // more than a STUN message can hold
  | 'bad-attribute' // a known attribute with a malformed value
  | 'bad-channel-data'; // ChannelData with a bad channel number or length

export class StunParseError extends Error {
  override readonly name = 'StunParseError';
  constructor(
    readonly reason: StunParseReason,
    message: string,
  ) {
    super(message);
  }
}
