export { CrossmintAuthEmulator } from './crossmint-auth-emulator.js';
export {
  overrideCrossmintAuth,
  type CrossmintAuthTestOptions,
  type OverridableTestingModuleBuilder,
} from './override-crossmint-auth.js';
export type * from './emulator.types.js';
