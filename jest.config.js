// One runner for the repo. Two projects so a developer can run the fast unit tests alone:
//   unit        *.test.ts beside the code (pure logic, fakes allowed)
//   integration *.int.test.ts and everything under tests/ (real servers of the local stack)
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' }, sourceMaps: 'inline' }] };
// Workspace packages resolve to their TypeScript sources, so tests never run stale builds.
const moduleNameMapper = { '^@tally/([^/]+)$': '<rootDir>/packages/$1/src' };
const common = { transform, moduleNameMapper, testEnvironment: 'node', rootDir: __dirname };
// *.full.test.ts: the longest fault scenarios (100,000 events through a scale-out, a 60 s MySQL
// freeze). `npm test` (and so CI) leaves them out to stay near 20 minutes; `npm run test:faults`
// (TALLY_FULL_SUITE=1) runs them with the rest of tests/faults and tests/security.
// eslint-disable-next-line no-restricted-properties -- a test-run option, not service configuration
const full = process.env.TALLY_FULL_SUITE === '1';

module.exports = {
  // Global (not per project) in Jest 30; integration tests wait on consumer-group joins and JVM servers.
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services}/**/src/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/', '/dist/'],
    },
    {
      ...common,
      displayName: 'integration',
      globalSetup: '<rootDir>/tests/global-setup.js',
      testMatch: ['<rootDir>/{packages,services}/**/src/**/*.int.test.ts', '<rootDir>/tests/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', ...(full ? [] : ['\\.full\\.test\\.ts$'])],
    },
  ],
};
