import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that mostly wait (the 10-minute continuous-sink run) start first, so they overlap the
 * rest of the suite instead of stretching its end.
 */
class LongRunsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const long = (f: TestSpecification) => f.moduleId.includes('long-run.test.');
    return [...sorted.filter(long), ...sorted.filter((f) => !long(f))];
  }
}

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
    // One more worker than cores: the long run above mostly sleeps and would otherwise hold a
    // core's worth of the pool for ten minutes.
    maxWorkers: 3,
    sequence: { sequencer: LongRunsFirst },
    globalSetup: ['test/global-setup.ts', 'packages/storage-s3/src/testing/global-setup.ts'],
  },
});
