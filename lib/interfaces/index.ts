export type * from './crossmint-auth-options.interface.js';
export type * from './crossmint-http-client.interface.js';
export type * from './crossmint-refresh-store.interface.js';
export type * from './crossmint-session.interface.js';
export type * from './http-message.interface.js';
export type * from './redis-refresh-store-client.interface.js';
export type * from './crossmint-auth-health.interface.js';
export type * from './crossmint-socket-refusal.interface.js';
