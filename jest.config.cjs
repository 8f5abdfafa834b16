// Tests run from the TypeScript sources: @swc/jest strips types (tsc type-checks
// separately in `make test`), and the ESM `.js` import suffixes map back to `.ts`.
const ESM_ONLY = '(@kubernetes/client-node|openid-client|oauth4webapi|jose)';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
    [`/node_modules/${ESM_ONLY}/.+\\.js$`]: ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Jest's own module loader runs our sources as CommonJS (swc compiles them so): the
  // ESM-only packages below (@kubernetes/client-node and its OIDC dependencies) are compiled
  // to CommonJS like our sources. Node itself (the built CLI) loads them as ES modules.
  transformIgnorePatterns: [`/node_modules/(?!${ESM_ONLY}/)`],
  moduleNameMapper: {
    '^@platform/log-reader$': '<rootDir>/packages/log-reader/src/index.ts',
    '^@platform/log-reader/layout$': '<rootDir>/packages/log-reader/src/layout.ts',
    '^@platform/log-reader/s3$': '<rootDir>/packages/log-reader/src/s3.ts',
    '^@platform/log-reader/kube-config$': '<rootDir>/packages/log-reader/src/kube-config.ts',
    '^@platform/log-reader/cli$': '<rootDir>/packages/log-reader/src/cli/main.ts',
    '^@platform/testkit$': '<rootDir>/packages/testkit/src/index.ts',
    '^compactor$': '<rootDir>/packages/compactor/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // Scratch trees (a git worktree of an older commit for the bench's baseline) hold copies of
  // the packages: jest must not see two of each.
  modulePathIgnorePatterns: ['<rootDir>/.tmp/', '<rootDir>/.tools/'],
  testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.cjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.cjs',
  testTimeout: 60000,
};
