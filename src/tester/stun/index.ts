// STUN codec: messages, attributes, integrity, fingerprint, ChannelData, stream framing.
export * from './constants';
export * from './errors';
export * from './ip';
export * from './message';
export * from './attributes';
export * from './integrity';
export * from './channel-data';
export * from './framer';
