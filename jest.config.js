/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // The real-browser suite needs Chromium; it runs with `npm run test:browser`.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The sample imports the package by name; tests run it from source.
    '^nestjs-crossmint-auth$': '<rootDir>/lib/index.ts',
    '^nestjs-crossmint-auth/testing$': '<rootDir>/lib/testing/index.ts',
  },
  testTimeout: 20000,
};
