// Tests run from the TypeScript sources: @swc/jest strips types (tsc type-checks
// separately in `make test`), and the ESM `.js` import suffixes map back to `.ts`.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  moduleNameMapper: {
    '^@platform/log-reader$': '<rootDir>/packages/log-reader/src/index.ts',
    '^@platform/testkit$': '<rootDir>/packages/testkit/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.cjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.cjs',
  testTimeout: 60000,
};
