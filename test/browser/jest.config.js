import base from '../../jest.config.js';

/** `npm run test:browser`: the real-browser suite only (Chromium at /usr/bin/chromium). `npm test` skips it. */
export default {
  ...base,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/browser/**/*.browser.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 60_000,
};
