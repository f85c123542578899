export { CrossmintAuthEmulator } from './crossmint-auth-emulator.js';
export type {
  CrossmintAuthEmulatorOptions,
  EcdsaSForm,
  EmulatorFault,
  EmulatorRoute,
  EmulatorSession,
  EmulatorUser,
} from './emulator.types.js';
