import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources: the `@weir/source` export condition points
// each workspace package at src/, so no build is needed before `npm test`.
export default defineConfig({
  resolve: { conditions: ['@weir/source'] },
  ssr: { resolve: { conditions: ['@weir/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts', 'packages/storage-s3/src/testing/global-setup.ts'],
  },
});
