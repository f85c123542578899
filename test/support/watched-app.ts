import { LogCapture } from './log-capture.js';
import { createTestApp, type TestApp, type TestAppOptions } from './test-app.js';

export interface WatchedApp extends TestApp {
  /** Everything the app logged; Nest's ExceptionsHandler logs an error for every 500. */
  logs: LogCapture;
}

/**
 * `createTestApp` with a capturing logger, so a suite can assert that no request ended in a 500.
 * Nest's logger is static: apps of one test file share the last one installed, so pass one capture to all.
 */
export async function createWatchedApp(options: TestAppOptions, logs = new LogCapture()): Promise<WatchedApp> {
  const testApp = await createTestApp(options);
  testApp.app.useLogger(logs);
  return { ...testApp, logs };
}
