/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type-checking runs once in `npm run typecheck`; jest only transpiles, which keeps it fast.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/support/temp-root.js',
  globalTeardown: '<rootDir>/test/support/temp-root-teardown.js',
  // Synthesizing EKS stacks is CPU-bound; one worker per core.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
