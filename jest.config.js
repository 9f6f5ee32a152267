// Two projects: `unit` (pure logic, fast) and `integration` (real coturn,
// Synapse, Chromium; run serially because they share the machine's ports).
// Type-checking is tsc's job (npm test runs it first); isolatedModules in tsconfig makes ts-jest transpile only.
const tsJest = ['ts-jest', { diagnostics: false }];
// @xmpp/client and its ltx parser ship only ES modules: Node 20 require()s them,
// jest's CommonJS runtime needs them transpiled.
const esmDeps = '(@xmpp|ltx)';
const esmTransform = { [`/node_modules/${esmDeps}/.+\\.js$`]: ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true } }] };
const transformIgnorePatterns = [`/node_modules/(?!${esmDeps}/)`];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest, ...esmTransform },
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest, ...esmTransform },
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
  ],
};
