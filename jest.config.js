// One runner for the repo. Two projects so a developer can run the fast unit tests alone:
//   unit        *.test.ts beside the code (pure logic, fakes allowed)
//   integration *.int.test.ts and everything under tests/ (real servers of the local stack)
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' }, sourceMaps: 'inline' }] };
// Workspace packages and services resolve to their TypeScript sources, so tests never run stale
// builds. A subpath (@tally/counter/binding) is the source file of the same name: package.json's
// `exports` map it to dist/<name>.js for node, and tsc rejects a subpath a package does not export.
const moduleNameMapper = {
  '^@tally/([^/]+)$': ['<rootDir>/packages/$1/src', '<rootDir>/services/$1/src/main'],
  '^@tally/([^/]+)/([^/]+)$': ['<rootDir>/packages/$1/src/$2', '<rootDir>/services/$1/src/$2'],
};
const common = { transform, moduleNameMapper, testEnvironment: 'node', rootDir: __dirname };

module.exports = {
  // Global (not per project) in Jest 30; integration tests wait on consumer-group joins and JVM servers.
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services}/**/src/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/', '/dist/', '/dist-test/'],
    },
    {
      ...common,
      displayName: 'integration',
      globalSetup: '<rootDir>/tests/global-setup.js',
      testMatch: ['<rootDir>/{packages,services}/**/src/**/*.int.test.ts', '<rootDir>/tests/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', '/dist-test/'],
    },
  ],
};
