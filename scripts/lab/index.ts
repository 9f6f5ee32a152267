// The local lab in one import: real coturn, Synapse, Prosody, ejabberd and network namespaces
// started by tests, the benchmark and the demo (see each module's header).
// Needs what scripts/ensure-deps.sh installs; namespaces need root.
export * from './certs';
export * from './coturn';
export * from './ejabberd';
export * from './prosody';
export * from './netns';
export * from './ports';
export * from './proc';
export * from './synapse';
export * from './livekit';
export * from './matrixrtc';
export * from './rtc-auth-standin';
