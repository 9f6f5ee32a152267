// TURN client over UDP/TCP/TLS with typed errors.
export * from './errors';
export * from './tls-info';
export * from './transport';
export * from './transaction';
export * from './client';
