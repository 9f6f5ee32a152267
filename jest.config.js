// Two projects: `unit` (pure logic, fast) and `integration` (real coturn,
// Synapse, Chromium; run serially because they share the machine's ports).
// Type-checking is tsc's job (npm test runs it first); isolatedModules in tsconfig makes ts-jest transpile only.
const tsJest = ['ts-jest', { diagnostics: false }];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
  ],
};
