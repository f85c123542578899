import { CROSSMINT_AUTH_MODULE_OPTIONS } from '../crossmint-auth.module-definition.js';
import type { CrossmintAuthModuleOptions } from '../interfaces/crossmint-auth-options.interface.js';
import { encodeBase58 } from '../utils/base58.js';
import type { CrossmintAuthEmulator } from './crossmint-auth-emulator.js';

/** The options a test may set beside the emulator's credentials (which it cannot change). */
export type CrossmintAuthTestOptions = Omit<CrossmintAuthModuleOptions, 'apiKey' | 'baseUrl' | 'projectId'>;

/** What `overrideCrossmintAuth` needs of `TestingModuleBuilder` (typed structurally: no `@nestjs/testing` import). */
export interface OverridableTestingModuleBuilder<Builder> {
  overrideProvider(token: unknown): { useValue(value: unknown): Builder };
}

/** Without an emulator: a well-formed key of a made-up project, and a loopback port where nothing listens. */
const OFFLINE_CREDENTIALS = {
  apiKey: `sk_development_${encodeBase58(new TextEncoder().encode('offline-test-project.offline:none'))}`,
  baseUrl: 'http://127.0.0.1:9',
};

/**
 * Runs an app's unchanged `CrossmintAuthModule.forRoot(...)` / `forRootAsync(...)` against the emulator: the module
 * options are replaced by the emulator's credentials plus `options`. The app's own options are not used (a
 * `forRootAsync` factory is not even called, so it may require environment variables the test does not set);
 * pass the ones the tests rely on, such as cookie names or routes, as `options`. They are validated at boot.
 * Without an emulator, the module boots on credentials that reach nothing (for tests that override the guard).
 *
 * `await overrideCrossmintAuth(Test.createTestingModule({ imports: [AppModule] }), emulator).compile()`
 */
export function overrideCrossmintAuth<Builder extends OverridableTestingModuleBuilder<Builder>>(
  builder: Builder,
  emulator?: CrossmintAuthEmulator,
  options: CrossmintAuthTestOptions = {},
): Builder {
  const credentials = emulator?.moduleOptions() ?? OFFLINE_CREDENTIALS;
  const effective: CrossmintAuthModuleOptions = { ...options, ...credentials };
  return builder.overrideProvider(CROSSMINT_AUTH_MODULE_OPTIONS).useValue(effective);
}
