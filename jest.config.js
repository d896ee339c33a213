/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/infra/test'],
  testMatch: ['**/*.test.ts'],
  // tsconfig.json sets isolatedModules, so ts-jest transpiles each file alone (no type-checking
  // language service in the test process: `npm test` type-checks with tsc first). That keeps the
  // heap of the process hosting the stand-ins and the in-process Timebox near 150 MB, not 1.5 GB.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  testTimeout: 30000,
  // On 2 cores jest runs one test file at a time (maxWorkers 1). A limit makes that run in a
  // worker process that is replaced once a file leaves it past 512 MB, so what one suite leaves
  // behind (heap, a leaked timer or server) cannot slow the timing of the suites after it.
  workerIdleMemoryLimit: '512MB',
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
};
