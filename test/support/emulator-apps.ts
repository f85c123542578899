import { afterAll, afterEach, beforeAll, beforeEach, expect } from '@jest/globals';
import { CrossmintAuthEmulator, type CrossmintAuthEmulatorOptions } from '../../lib/testing/index.js';
import { LogCapture } from './log-capture.js';
import type { TestAppOptions } from './test-app.js';
import { createWatchedApp, type WatchedApp } from './watched-app.js';

export interface EmulatorAppsOptions<Name extends string> {
  /** Options for `CrossmintAuthEmulator.start`. */
  emulator?: CrossmintAuthEmulatorOptions;
  /** The suite's apps by name: `createTestApp` options made from the started emulator. */
  apps?: (emulator: CrossmintAuthEmulator) => Record<Name, TestAppOptions>;
  /** New apps for every test, closed after it, instead of one set for the whole suite. */
  appsPerTest?: boolean;
  /**
   * After each test: `'no-errors'` fails it if an app logged an error (Nest logs one for every 500), then empties the
   * logs; `'clear'` only empties them. Unset, the logs pile up for the suite to read.
   */
  logs?: 'no-errors' | 'clear';
}

/** The started emulator, the apps by name and the log capture they share; set once the hooks have run. */
export type EmulatorApps<Name extends string> = Record<Name, WatchedApp> & {
  emulator: CrossmintAuthEmulator;
  logs: LogCapture;
};

/**
 * The setup of most e2e suites, as jest hooks of the calling `describe`: start an emulator and create the apps
 * before all tests, `emulator.reset()` before each test and deal with the logs after it, close the apps and stop
 * the emulator after all. Read `suite.emulator`, `suite.<app>` and `suite.logs` in tests and later hooks. Nest's
 * logger is static: an app a test makes itself logs to the same capture (`createWatchedApp(options, suite.logs)`).
 */
export function useEmulatorApps<Name extends string = never>(
  options: EmulatorAppsOptions<Name> = {},
): EmulatorApps<Name> {
  const suite = { logs: new LogCapture() } as EmulatorApps<Name>;
  let open: WatchedApp[] = [];

  async function createApps(): Promise<void> {
    const apps = options.apps?.(suite.emulator) ?? ({} as Record<Name, TestAppOptions>);
    for (const name of Object.keys(apps) as Name[]) {
      const app = await createWatchedApp(apps[name], suite.logs);
      open.push(app);
      (suite as Record<Name, WatchedApp>)[name] = app;
    }
  }
  async function closeApps(): Promise<void> {
    for (const app of open) await app.close();
    open = [];
  }

  beforeAll(async () => {
    suite.emulator = await CrossmintAuthEmulator.start(options.emulator);
    if (!options.appsPerTest) await createApps();
  });
  afterAll(async () => {
    await closeApps();
    await suite.emulator?.stop();
  });
  beforeEach(async () => {
    suite.emulator.reset();
    if (options.appsPerTest) await createApps();
  });
  afterEach(async () => {
    if (options.appsPerTest) await closeApps();
    if (options.logs === 'no-errors') expect(suite.logs.drainErrors()).toEqual([]);
    else if (options.logs === 'clear') suite.logs.clear();
  });
  return suite;
}
