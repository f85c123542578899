export { CrossmintAuthEmulator } from './crossmint-auth-emulator.js';
export type * from './emulator.types.js';
