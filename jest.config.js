// One jest, three projects: unit (pure logic, in-memory adapters, milliseconds),
// contract (each port's suite against real Kafka, Redis and MongoDB/FerretDB) and
// e2e (the four services as real processes, real WebSockets and gRPC).
// TypeScript is compiled by swc (fast, no type check: `tsc -b` does that in the build).
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } }],
};
const moduleNameMapper = { '^@parley/(proto|core|bus|sessions|sdk|membership|limits)$': '<rootDir>/packages/$1/src/index.ts' };
const common = { transform, moduleNameMapper, testEnvironment: 'node', rootDir: __dirname };

module.exports = {
  // Per-test ceiling; contract and e2e tests talk to real servers.
  testTimeout: 120_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/services/*/src/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.contract\\.test\\.ts$', '/node_modules/', '/dist/'],
    },
    {
      ...common,
      displayName: 'contract',
      testMatch: ['<rootDir>/packages/*/src/**/*.contract.test.ts', '<rootDir>/services/*/src/**/*.contract.test.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
    {
      // The Helm chart and k8s/ manifests: helm lint/template, Kubernetes API schemas, drift.
      ...common,
      displayName: 'deploy',
      testMatch: ['<rootDir>/test/k8s/**/*.test.ts'],
    },
    {
      // The benchmark harness in quick mode: asserts that it works and counts right, never a speed.
      ...common,
      displayName: 'bench',
      testMatch: ['<rootDir>/bench/test/**/*.test.ts'],
    },
    {
      // Kills and restarts servers: runs on infrastructure of its own (see test/failure/README.md),
      // after the other projects, one file at a time (./parley test does that).
      ...common,
      displayName: 'failure',
      testMatch: ['<rootDir>/test/failure/**/*.test.ts'],
    },
  ],
};
