// One jest configuration for the whole workspace. Tests run the TypeScript sources directly
// through @swc/jest (no type checking here: `tsc -b` in `npm run build` does that), and
// `@tessera/<name>` resolves to `packages/<name>/src/index.ts` so a test never sees a stale dist/.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/test-cluster/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    '^@tessera/([a-z0-9-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^@tessera/([a-z0-9-]+)/(.+)$': '<rootDir>/packages/$1/src/$2',
  },
  setupFiles: ['<rootDir>/scripts/jest-env.cjs'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  maxWorkers: 2,
  testTimeout: 60_000,
};
