// One Jest run for the whole workspace, in ESM mode: jose, openid-client and oidc-provider are
// ESM-only. @swc/jest only strips types (fast); `pnpm typecheck` is where types are checked.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022', keepClassNames: true },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  // Tests import the workspace packages from source, so no build step sits between an edit and a run.
  moduleNameMapper: {
    '^@portcullis/test-fixtures$': '<rootDir>/test/fixtures/src/index.ts',
    '^@portcullis/dev-authorization-server$': '<rootDir>/examples/dev-authorization-server/src/index.ts',
    '^@portcullis/example-([a-z-]+)$': '<rootDir>/examples/$1/src/index.ts',
    '^@portcullis/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  setupFiles: ['<rootDir>/test/jest-setup.ts'],
  testTimeout: 30_000,
};
